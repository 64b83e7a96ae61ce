# Reference values for nplab.stats.anova.mixed_anova, computed with R afex::aov_ez.
# Run from this folder:  Rscript anova_reference.R
# Writes: anova_data_*.csv (the long-format inputs) and anova_expected_*.csv (afex results).
suppressMessages({library(afex); library(car)})
options(digits = 15)
out_versions <- sprintf("# %s; afex %s; car %s", R.version.string,
                        packageVersion("afex"), packageVersion("car"))

write_ref <- function(name, data, dv, between, within, id) {
  write.csv(data, sprintf("anova_data_%s.csv", name), row.names = FALSE)
  a <- aov_ez(id = id, dv = dv, data = data, between = between, within = within,
              anova_table = list(correction = "none", es = c("pes", "ges")),
              include_aov = FALSE)
  tab <- a$anova_table
  if (is.null(within)) {
    av <- as.data.frame(a$Anova)
    uni <- data.frame(av[rownames(tab), "Sum Sq"], av["Residuals", "Sum Sq"],
                      row.names = rownames(tab))
    names(uni) <- c("Sum Sq", "Error SS")
  } else {
    s <- summary(a$Anova, multivariate = FALSE)
    uni <- as.data.frame(unclass(s$univariate.tests))
  }
  res <- data.frame(source = rownames(tab), df1 = tab[["num Df"]], df2 = tab[["den Df"]],
                    F = tab[["F"]], p = tab[["Pr(>F)"]], np2 = tab[["pes"]], ges = tab[["ges"]],
                    SS = uni[rownames(tab), "Sum Sq"], SSE = uni[rownames(tab), "Error SS"],
                    eps_gg = NA_real_, p_gg = NA_real_, eps_hf = NA_real_, p_hf = NA_real_,
                    mauchly_w = NA_real_, mauchly_p = NA_real_)
  if (!is.null(within)) {
    gg <- anova(a, correction = "GG")
    hf <- anova(a, correction = "HF")
    adj <- s$pval.adjustments
    sph <- s$sphericity.tests
    for (r in rownames(tab)) {
      if (!is.null(adj) && r %in% rownames(adj)) {
        res[res$source == r, "eps_gg"] <- adj[r, "GG eps"]
        res[res$source == r, "eps_hf"] <- adj[r, "HF eps"]
        res[res$source == r, "p_gg"] <- gg[r, "Pr(>F)"]
        res[res$source == r, "p_hf"] <- hf[r, "Pr(>F)"]
      }
      if (!is.null(sph) && r %in% rownames(sph)) {
        res[res$source == r, "mauchly_w"] <- sph[r, "Test statistic"]
        res[res$source == r, "mauchly_p"] <- sph[r, "p-value"]
      }
    }
  }
  con <- file(sprintf("anova_expected_%s.csv", name), "w")
  writeLines(out_versions, con)
  write.csv(res, con, row.names = FALSE)
  close(con)
  print(res)
}

# 1. O'Brien & Kaiser (1985) data shipped with afex (obk.long): treatment (between,
#    unbalanced 5/4/7) x hour (within, 5 levels), averaged over phase.
data(obk.long, package = "afex")
obk <- aggregate(value ~ id + treatment + hour, data = obk.long, FUN = mean)
obk <- obk[order(obk$id, obk$hour), ]
write_ref("obk", obk, "value", "treatment", "hour", "id")

# 2. Simulated CCI-like drug study: 4 unbalanced groups x 6 time points, AR(1)-like
#    within-animal correlation with heterogeneous variances (non-spherical).
set.seed(20261123)
groups <- c(sham = 6, vehicle = 8, drug_low = 7, drug_high = 5)
times <- c("BL", "D14", "h0.5", "h1", "h2", "h4")
mu <- rbind(sham      = c(1.10, 1.08, 1.12, 1.09, 1.10, 1.11),
            vehicle   = c(1.12, 0.35, 0.40, 0.38, 0.36, 0.37),
            drug_low  = c(1.09, 0.36, 0.55, 0.62, 0.50, 0.42),
            drug_high = c(1.11, 0.33, 0.80, 0.95, 0.78, 0.55))
sd_t <- c(0.10, 0.15, 0.18, 0.20, 0.22, 0.25)
R <- 0.6^abs(outer(1:6, 1:6, "-"))
Sig <- diag(sd_t) %*% R %*% diag(sd_t)
L <- chol(Sig)
rows <- list(); k <- 0
for (g in names(groups)) for (i in seq_len(groups[[g]])) {
  k <- k + 1
  y <- mu[g, ] + as.vector(rnorm(6) %*% L)
  rows[[k]] <- data.frame(animal = sprintf("%s_%02d", g, i), group = g,
                          time = times, log_threshold = round(y, 4))
}
cci <- do.call(rbind, rows)
write_ref("cci", cci, "log_threshold", "group", "time", "animal")

# 3. Within-only repeated-measures ANOVA: the vehicle group alone.
veh <- cci[cci$group == "vehicle", ]
write_ref("within", veh, "log_threshold", NULL, "time", "animal")

# 4. One-way between-subjects ANOVA: the h1 time point.
h1 <- cci[cci$time == "h1", ]
write_ref("oneway", h1, "log_threshold", "group", NULL, "animal")

# 5. Near-spherical design (independent errors) where the Huynh-Feldt epsilon exceeds 1:
#    car reports it uncapped, p uses min(1, eps).
set.seed(1)
sph <- expand.grid(t = paste0("t", 1:4), animal = sprintf("a%02d", 1:18))
sph$group <- rep(c("g1", "g2", "g3"), times = c(5, 6, 7))[as.integer(factor(sph$animal))]
sph$y <- round(rnorm(nrow(sph)) + 0.3 * as.integer(factor(sph$t)), 4)
sph <- sph[, c("animal", "group", "t", "y")]
write_ref("spherical", sph, "y", "group", "t", "animal")
