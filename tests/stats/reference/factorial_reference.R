# Reference values for the factorial mixed ANOVA (nplab.stats.mixed_anova with several
# between and up to two within factors), computed with R afex::aov_ez.
# Run from this folder:  Rscript factorial_reference.R
# Writes: anova_data_fact.csv (simulated CCI-like study: treatment x sex between,
# time x paw within, unbalanced 8-10 animals per cell) and anova_expected_fact_*.csv.
suppressMessages({library(afex); library(car)})
options(digits = 15)
out_versions <- sprintf("# %s; afex %s; car %s", R.version.string,
                        packageVersion("afex"), packageVersion("car"))
set.seed(1402)
cells <- expand.grid(sex = c("F", "M"), treatment = c("vehicle", "amitriptyline", "duloxetine"),
                     stringsAsFactors = FALSE)
n_cell <- c(9, 10, 8, 9, 10, 8)
times <- c("baseline", "d7", "d14", "d21")
rows <- list(); id <- 0
for (i in seq_len(nrow(cells))) for (j in seq_len(n_cell[i])) {
  id <- id + 1
  a <- rnorm(1, 0, 0.15)
  for (t in seq_along(times)) for (paw in c("ipsi", "contra")) {
    mu <- 1.1
    if (paw == "ipsi" && t > 1) mu <- mu - 0.6
    if (paw == "ipsi" && t > 2 && cells$treatment[i] != "vehicle") mu <- mu + 0.3
    if (paw == "ipsi" && t > 2 && cells$treatment[i] == "duloxetine" && cells$sex[i] == "F") mu <- mu + 0.2
    if (cells$sex[i] == "M") mu <- mu + 0.05
    rows[[length(rows) + 1]] <- data.frame(
      animal = sprintf("a%02d", id), treatment = cells$treatment[i], sex = cells$sex[i],
      time = times[t], paw = paw, log_threshold = round(mu + a + rnorm(1, 0, 0.12 * t), 4))
  }
}
fact <- do.call(rbind, rows)
write.csv(fact, "anova_data_fact.csv", row.names = FALSE)

ref <- function(name, data, between, within, observed = NULL) {
  a <- aov_ez(id = "animal", dv = "log_threshold", data = data, between = between,
              within = within, observed = observed,
              anova_table = list(correction = "none", es = c("pes", "ges")),
              include_aov = FALSE)
  tab <- a$anova_table
  s <- summary(a$Anova, multivariate = FALSE)
  uni <- as.data.frame(unclass(s$univariate.tests))
  res <- data.frame(source = rownames(tab), df1 = tab[["num Df"]], df2 = tab[["den Df"]],
                    F = tab[["F"]], p = tab[["Pr(>F)"]], np2 = tab[["pes"]], ges = tab[["ges"]],
                    SS = uni[rownames(tab), "Sum Sq"], SSE = uni[rownames(tab), "Error SS"],
                    eps_gg = NA_real_, p_gg = NA_real_, eps_hf = NA_real_, p_hf = NA_real_,
                    mauchly_w = NA_real_, mauchly_p = NA_real_)
  gg <- anova(a, correction = "GG"); hf <- anova(a, correction = "HF")
  adj <- s$pval.adjustments; sph <- s$sphericity.tests
  for (r in rownames(tab)) {
    if (!is.null(adj) && r %in% rownames(adj)) {
      res[res$source == r, c("eps_gg", "eps_hf")] <- adj[r, c("GG eps", "HF eps")]
      res[res$source == r, "p_gg"] <- gg[r, "Pr(>F)"]
      res[res$source == r, "p_hf"] <- hf[r, "Pr(>F)"]
    }
    if (!is.null(sph) && r %in% rownames(sph)) {
      res[res$source == r, "mauchly_w"] <- sph[r, "Test statistic"]
      res[res$source == r, "mauchly_p"] <- sph[r, "p-value"]
    }
  }
  con <- file(sprintf("anova_expected_fact_%s.csv", name), "w")
  writeLines(out_versions, con); write.csv(res, con, row.names = FALSE); close(con)
  print(res[, 1:7])
}
# 1. treatment x sex (between) x time x paw (within), sex observed
ref("2b2w", fact, c("treatment", "sex"), c("time", "paw"), observed = "sex")
# 2. treatment x sex x time on the ipsilateral paw, sex observed
ipsi <- fact[fact$paw == "ipsi", ]
ref("2b1w", ipsi, c("treatment", "sex"), "time", observed = "sex")
# 3. treatment x time x paw (one between, two within), nothing observed
ref("1b2w", fact, "treatment", c("time", "paw"))
# 4. time x paw (within only)
ref("0b2w", fact, NULL, c("time", "paw"))
