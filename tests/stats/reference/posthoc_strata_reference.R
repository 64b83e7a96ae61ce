# Reference values for nplab.stats.posthoc_by_time / dunnett_by_time with several between
# factors (issue 14.2): Dunnett vs vehicle at each time x paw cell, (a) within each sex
# (by = "sex") and (b) on the marginal means averaged over sex, from
#   emmeans(aov_ez(...), ~ treatment | time * paw * sex, model = "multivariate")
#   emmeans(aov_ez(...), ~ treatment | time * paw,       model = "multivariate")
# Run from this folder:  Rscript posthoc_strata_reference.R   (reads anova_data_fact.csv,
# written by factorial_reference.R; writes posthoc_expected_strata.csv)
# emmeans gives diff, SE, df (N - number of between cells) and t.  Adjusted p-values are
# computed with an independent deterministic evaluation of Dunnett's single-step
# probability (product correlation lam_i lam_j, lam_i = SE0 / sqrt(SE0^2 + SEi^2) from the
# emmeans' standard errors; nested adaptive integrate(), as in posthoc_reference.R) and,
# for the check of that evaluation, with mvtnorm::pmvt at a tight absolute error.
suppressMessages({library(afex); library(emmeans); library(mvtnorm)})
options(digits = 15)
versions <- sprintf("# %s; afex %s; emmeans %s; mvtnorm %s", R.version.string,
                    packageVersion("afex"), packageVersion("emmeans"), packageVersion("mvtnorm"))
pdun_integral <- function(t, lam, df) {
  sig <- sqrt(1 - lam^2)
  keep <- function(s, wj) prod(pnorm((t * s - lam * wj) / sig) - pnorm((-t * s - lam * wj) / sig))
  inner <- function(s) integrate(function(w) dnorm(w) * (1 - sapply(w, function(wj)
    keep(s, wj))), -Inf, Inf, rel.tol = 1e-10, abs.tol = 1e-14)$value
  f_s <- function(s) dchisq(df * s^2, df) * 2 * df * s
  integrate(function(s) sapply(s, function(si) f_s(si) * inner(si)), 0, Inf,
            rel.tol = 1e-9, abs.tol = 1e-14)$value
}
fact <- read.csv("anova_data_fact.csv", stringsAsFactors = FALSE)
fact$treatment <- factor(fact$treatment, levels = c("vehicle", "amitriptyline", "duloxetine"))
fact$sex <- factor(fact$sex, levels = c("F", "M"))
fact$time <- factor(fact$time, levels = c("baseline", "d7", "d14", "d21"))
fact$paw <- factor(fact$paw, levels = c("ipsi", "contra"))
a <- aov_ez(id = "animal", dv = "log_threshold", data = fact, between = c("treatment", "sex"),
            within = c("time", "paw"), include_aov = FALSE)
one <- function(spec, case) {
  em <- emmeans(a, spec, model = "multivariate")
  emd <- as.data.frame(em)
  ct <- as.data.frame(contrast(em, "trt.vs.ctrl", ref = 1, adjust = "none"))
  byv <- setdiff(all.vars(spec), "treatment")
  out <- list()
  for (key in unique(interaction(ct[byv], drop = TRUE, sep = "|"))) {
    sel <- interaction(ct[byv], drop = TRUE, sep = "|") == key
    ems <- emd[interaction(emd[byv], drop = TRUE, sep = "|") == key, ]
    se0 <- ems$SE[ems$treatment == "vehicle"]
    sei <- ems$SE[ems$treatment != "vehicle"]
    lam <- se0 / sqrt(se0^2 + sei^2)
    sub <- ct[sel, ]
    sub$p_integral <- sapply(abs(sub$t.ratio), function(t) pdun_integral(t, lam, sub$df[1]))
    corr <- outer(lam, lam); diag(corr) <- 1
    set.seed(1)
    sub$p_pmvt <- sapply(abs(sub$t.ratio), function(t) 1 - pmvt(lower = rep(-t, 2),
      upper = rep(t, 2), df = sub$df[1], corr = corr,
      algorithm = GenzBretz(maxpts = 1e6, abseps = 1e-8, releps = 0)))
    out[[key]] <- sub
  }
  res <- do.call(rbind, out)
  if (!"sex" %in% names(res)) res$sex <- NA
  data.frame(case = case, time = res$time, paw = res$paw, sex = res$sex,
             group = sub(" - vehicle$", "", res$contrast), diff = res$estimate, se = res$SE,
             df = res$df, t = res$t.ratio, p = res$p_integral, p_pmvt = res$p_pmvt)
}
rec <- rbind(one(~ treatment | time * paw * sex, "by_sex"),
             one(~ treatment | time * paw, "marginal"))
con <- file("posthoc_expected_strata.csv", "w"); writeLines(versions, con)
write.csv(rec, con, row.names = FALSE); close(con)
print(head(rec)); print(range(rec$p - rec$p_pmvt))
