# Reference values for nplab.stats.nonparametric (tests/stats/test_nonparametric.py).
# Run from this folder:  Rscript np_reference.R
# Writes np_data.csv (the inputs) and np_values.csv (R results, 15 significant digits).
# R base only (stats::kruskal.test, wilcox.test, friedman.test, p.adjust); Dunn (1964) is
# coded below from its formula because dunn.test is not installed here.
options(digits = 15)
set.seed(7)
# CCI-like von Frey data: 4 groups, discrete thresholds (ties), unequal n
thr <- c(0.4, 0.6, 1, 1.4, 2, 4, 6, 8, 10, 15)
grp <- rep(c("sham", "vehicle", "drug_lo", "drug_hi"), times = c(6, 8, 7, 5))
lev <- c(sham = 9, vehicle = 2, drug_lo = 4, drug_hi = 6)
vf <- data.frame(group = grp,
                 threshold_g = thr[pmin(10, pmax(1, round(lev[grp] + rnorm(length(grp), 0, 1.5))))])
# within-subject (Friedman) data: 3 groups x 9 subjects x 4 times, with ties
fr <- expand.grid(time = c("t0.5", "t1", "t2", "t4"), subject = sprintf("s%02d", 1:18), stringsAsFactors = FALSE)
fr$group <- c("vehicle", "drug", "drug_hi")[((as.integer(sub("s", "", fr$subject)) - 1) %% 3) + 1]
fr$score <- round(rnorm(nrow(fr), mean = as.integer(factor(fr$time)) * (fr$group != "vehicle"), sd = 1))
write.csv(vf, "np_vf_data.csv", row.names = FALSE)
write.csv(fr, "np_fr_data.csv", row.names = FALSE)
aq <- airquality[, c("Ozone", "Month")]
write.csv(aq, "np_airquality.csv", row.names = FALSE)
rt <- matrix(c(5.40, 5.50, 5.55, 5.85, 5.70, 5.75, 5.20, 5.60, 5.50, 5.55, 5.50, 5.40,
               5.90, 5.85, 5.70, 5.45, 5.55, 5.60, 5.40, 5.40, 5.35, 5.45, 5.50, 5.35,
               5.25, 5.15, 5.00, 5.85, 5.80, 5.70, 5.25, 5.20, 5.10, 5.65, 5.55, 5.45,
               5.60, 5.35, 5.45, 5.05, 5.00, 4.95, 5.50, 5.50, 5.40, 5.45, 5.55, 5.50,
               5.55, 5.55, 5.35, 5.45, 5.50, 5.55, 5.50, 5.45, 5.25, 5.65, 5.60, 5.40,
               5.70, 5.65, 5.55, 6.30, 6.30, 6.25),
             nrow = 22, byrow = TRUE,
             dimnames = list(1:22, c("Round Out", "Narrow Angle", "Wide Angle")))
rtl <- data.frame(player = rep(1:22, 3), method = rep(colnames(rt), each = 22), time = c(rt))
write.csv(rtl, "np_roundingtimes.csv", row.names = FALSE)

out <- list()
add <- function(test, case, name, value) out[[length(out) + 1]] <<- data.frame(test = test, case = case, name = name, value = value)
k <- kruskal.test(Ozone ~ Month, data = aq)
add("kruskal", "airquality", "H", k$statistic); add("kruskal", "airquality", "df", k$parameter); add("kruskal", "airquality", "p", k$p.value)
k <- kruskal.test(threshold_g ~ group, data = vf)
add("kruskal", "vf", "H", k$statistic); add("kruskal", "vf", "df", k$parameter); add("kruskal", "vf", "p", k$p.value)

dunn_r <- function(y, g, pairs, method) {
  ok <- !is.na(y); y <- y[ok]; g <- g[ok]
  N <- length(y); r <- rank(y); t <- table(y)
  v0 <- N * (N + 1) / 12 - sum(t^3 - t) / (12 * (N - 1))
  res <- t(sapply(pairs, function(pr) {
    a <- pr[1]; b <- pr[2]
    z <- (mean(r[g == a]) - mean(r[g == b])) / sqrt(v0 * (1 / sum(g == a) + 1 / sum(g == b)))
    c(z, 2 * pnorm(-abs(z)))
  }))
  cbind(res, p.adjust(res[, 2], method))
}
lv <- sort(unique(vf$group))
allp <- combn(lv, 2, simplify = FALSE)
d <- dunn_r(vf$threshold_g, vf$group, allp, "holm")
for (i in seq_along(allp)) { cs <- paste(allp[[i]], collapse = "|")
  add("dunn_all_holm", cs, "z", d[i, 1]); add("dunn_all_holm", cs, "p", d[i, 2]); add("dunn_all_holm", cs, "p_adj", d[i, 3]) }
ctl <- lapply(setdiff(lv, "vehicle"), function(a) c(a, "vehicle"))
for (m in c("holm", "bonferroni", "BH", "hochberg")) {
  d <- dunn_r(vf$threshold_g, vf$group, ctl, m)
  for (i in seq_along(ctl)) { cs <- paste(ctl[[i]], collapse = "|")
    add(paste0("dunn_ctl_", m), cs, "z", d[i, 1]); add(paste0("dunn_ctl_", m), cs, "p_adj", d[i, 3]) }
}
aql <- unique(aq$Month[!is.na(aq$Ozone)]); aqp <- combn(sort(aql), 2, simplify = FALSE)
d <- dunn_r(aq$Ozone, aq$Month, aqp, "bonferroni")
for (i in seq_along(aqp)) { cs <- paste(aqp[[i]], collapse = "|")
  add("dunn_aq_bonf", cs, "z", d[i, 1]); add("dunn_aq_bonf", cs, "p_adj", d[i, 3]) }

# Hollander & Wolfe (1973) p. 116 mucociliary efficiency (?kruskal.test example):
# documented output chi-squared = 0.77143, df = 2, p-value = 0.68
hw <- data.frame(rate = c(2.9, 3.0, 2.5, 2.6, 3.2, 3.8, 2.7, 4.0, 2.4, 2.8, 3.4, 3.7, 2.2, 2.0),
                 group = rep(c("normal", "obstructive", "asbestosis"), c(5, 4, 5)))
write.csv(hw, "np_hollander_wolfe.csv", row.names = FALSE)
k <- kruskal.test(rate ~ group, data = hw)
add("kruskal", "hollander_wolfe", "H", k$statistic); add("kruskal", "hollander_wolfe", "p", k$p.value)
hwp <- combn(sort(unique(hw$group)), 2, simplify = FALSE)
d <- dunn_r(hw$rate, hw$group, hwp, "holm")
for (i in seq_along(hwp)) { cs <- paste(hwp[[i]], collapse = "|")
  add("dunn_hw_holm", cs, "z", d[i, 1]); add("dunn_hw_holm", cs, "p_adj", d[i, 3]) }

# Mann-Whitney: wilcox.test(x, y)
x1 <- c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46)  # ?wilcox.test depression data
y1 <- c(1.15, 0.88, 0.90, 0.74, 1.21)
write.csv(data.frame(v = c(x1, y1), g = rep(c("x", "y"), c(10, 5))), "np_mw_exact.csv", row.names = FALSE)
for (alt in c("two.sided", "greater", "less")) { w <- wilcox.test(x1, y1, alternative = alt)
  add("mw_exact", alt, "W", w$statistic); add("mw_exact", alt, "p", w$p.value) }
w <- wilcox.test(x1, y1, exact = FALSE); add("mw_exact_normal", "two.sided", "p", w$p.value)
w <- wilcox.test(x1, y1, exact = FALSE, correct = FALSE); add("mw_exact_normal_nocorr", "two.sided", "p", w$p.value)
xa <- vf$threshold_g[vf$group == "drug_hi"]; ya <- vf$threshold_g[vf$group == "vehicle"]
for (alt in c("two.sided", "greater", "less")) { w <- suppressWarnings(wilcox.test(xa, ya, alternative = alt))
  add("mw_ties", alt, "W", w$statistic); add("mw_ties", alt, "p", w$p.value) }
set.seed(11); xb <- round(rnorm(55, 1), 3); yb <- round(rnorm(60, 0.6), 3)
write.csv(data.frame(v = c(xb, yb), g = rep(c("x", "y"), c(55, 60))), "np_mw_large.csv", row.names = FALSE)
w <- wilcox.test(xb, yb); add("mw_large", "two.sided", "W", w$statistic); add("mw_large", "two.sided", "p", w$p.value)

f <- friedman.test(rt); add("friedman", "roundingtimes", "chi2", f$statistic); add("friedman", "roundingtimes", "df", f$parameter); add("friedman", "roundingtimes", "p", f$p.value)
for (gname in sort(unique(fr$group))) { s <- droplevels(fr[fr$group == gname, ])
  f <- friedman.test(score ~ time | subject, data = s)
  add("friedman_fr", gname, "chi2", f$statistic); add("friedman_fr", gname, "p", f$p.value) }
write.csv(do.call(rbind, out), "np_values.csv", row.names = FALSE)
