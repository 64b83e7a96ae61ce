# Reference values for nplab.stats.paired (paired t test, Wilcoxon signed-rank test,
# ipsilateral vs contralateral paw at each time point with Holm / Sidak adjustment).
# Run from this folder:  Rscript paired_reference.R
options(digits = 15)
versions <- sprintf("# %s (stats)", R.version.string)
d <- read.csv("lmm_data_fact_missing.csv")
rows <- list()
for (tm in c("baseline", "d7", "d14", "d21")) {
  s <- d[d$time == tm, ]
  w <- merge(s[s$paw == "ipsi", c("animal", "log_threshold")],
             s[s$paw == "contra", c("animal", "log_threshold")], by = "animal",
             suffixes = c("_ipsi", "_contra"))
  x <- w$log_threshold_ipsi; y <- w$log_threshold_contra
  tt <- t.test(x, y, paired = TRUE)
  we <- suppressWarnings(wilcox.test(x, y, paired = TRUE))            # exact (n < 50, no ties)
  wn <- suppressWarnings(wilcox.test(x, y, paired = TRUE, exact = FALSE))
  xr <- round(x, 1); yr <- round(y, 1)                                # ties and zeros
  wt <- suppressWarnings(wilcox.test(xr, yr, paired = TRUE))
  rows[[tm]] <- data.frame(time = tm, n = length(x), mean_diff = unname(tt$estimate),
    t = unname(tt$statistic), df = unname(tt$parameter), p_t = tt$p.value,
    ci_low = tt$conf.int[1], ci_high = tt$conf.int[2],
    V_exact = unname(we$statistic), p_exact = we$p.value, p_normal = wn$p.value,
    n_rounded = sum(xr != yr), V_ties = unname(wt$statistic), p_ties = wt$p.value)
}
res <- do.call(rbind, rows)
res$p_t_holm <- p.adjust(res$p_t, "holm")
res$p_t_sidak <- 1 - (1 - res$p_t)^nrow(res)
res$p_exact_holm <- p.adjust(res$p_exact, "holm")
con <- file("paired_expected.csv", "w"); writeLines(versions, con)
write.csv(res, con, row.names = FALSE); close(con)
print(res)
