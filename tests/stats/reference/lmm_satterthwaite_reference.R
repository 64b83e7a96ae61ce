# Reference values for Satterthwaite inference from nplab.stats.mixed_model: lmerTest
# (t tests of fixed effects, Type III F tests with contr.sum) and emmeans
# (lmer.df = "satterthwaite") Dunnett comparisons, on a CCI-like design with missing
# time points (anova_data_fact.csv minus 10 % of its rows) and on sleepstudy.
# Run from this folder:  Rscript lmm_satterthwaite_reference.R
suppressMessages({library(lmerTest); library(emmeans)})
options(digits = 15)
versions <- sprintf("# %s; lme4 %s; lmerTest %s; emmeans %s; pbkrtest %s", R.version.string,
                    packageVersion("lme4"), packageVersion("lmerTest"),
                    packageVersion("emmeans"), packageVersion("pbkrtest"))
write_rec <- function(df, file) {
  con <- file(file, "w"); writeLines(versions, con); write.csv(df, con, row.names = FALSE)
  close(con); print(df)
}
# deterministic single-step Dunnett p (product correlation lam_i lam_j), non-integer df:
# the same independent integral as posthoc_reference.R
pdun_integral <- function(t, lam, df) {
  sig <- sqrt(1 - lam^2)
  keep <- function(s, wj) prod(pnorm((t * s - lam * wj) / sig) - pnorm((-t * s - lam * wj) / sig))
  inner <- function(s) integrate(function(w) dnorm(w) * (1 - sapply(w, function(wj)
    keep(s, wj))), -Inf, Inf, rel.tol = 1e-10, abs.tol = 1e-14)$value
  f_s <- function(s) dchisq(df * s^2, df) * 2 * df * s
  integrate(function(s) sapply(s, function(si) f_s(si) * inner(si)), 0, Inf,
            rel.tol = 1e-9, abs.tol = 1e-14)$value
}

fact <- read.csv("anova_data_fact.csv")
set.seed(2024)
miss <- fact[-sort(sample(nrow(fact), round(0.1 * nrow(fact)))), ]
write.csv(miss, "lmm_data_fact_missing.csv", row.names = FALSE)
lv <- list(treatment = c("vehicle", "amitriptyline", "duloxetine"), sex = c("F", "M"),
           time = c("baseline", "d7", "d14", "d21"), paw = c("ipsi", "contra"))
for (f in names(lv)) miss[[f]] <- factor(miss[[f]], levels = lv[[f]])
ipsi <- droplevels(miss[miss$paw == "ipsi", ])

fixed_rows <- function(fit, case) {
  cf <- summary(fit, ddf = "Satterthwaite")$coefficients
  data.frame(case = case, term = rownames(cf), estimate = cf[, 1], se = cf[, 2],
             df = cf[, 3], t = cf[, 4], p = cf[, 5])
}
anova_rows <- function(fit, case) {
  a <- anova(fit, type = 3, ddf = "Satterthwaite")
  k <- anova(fit, type = 3, ddf = "Kenward-Roger")
  data.frame(case = case, source = rownames(a), df1 = a$NumDF, df2 = a$DenDF, F = a[["F value"]],
             p = a[["Pr(>F)"]], df2_kr = k$DenDF, F_kr = k[["F value"]], p_kr = k[["Pr(>F)"]])
}

# 1. ipsilateral paw: treatment x time, random intercept per animal (treatment contrasts,
#    vehicle and baseline the reference levels)
m1 <- lmer(log_threshold ~ treatment * time + (1 | animal), ipsi, REML = TRUE)
# 2. both paws: treatment x sex x time x paw, random intercept per animal
m2 <- lmer(log_threshold ~ treatment * sex * time * paw + (1 | animal), miss, REML = TRUE)
# 3. sleepstudy, correlated random intercept and slope
data(sleepstudy, package = "lme4")
m3 <- lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = TRUE)
write_rec(rbind(fixed_rows(m1, "ipsi"), fixed_rows(m2, "both"), fixed_rows(m3, "sleep")),
          "lmm_satt_expected_fixed.csv")
vc <- rbind(data.frame(case = "ipsi", as.data.frame(VarCorr(m1))),
            data.frame(case = "both", as.data.frame(VarCorr(m2))),
            data.frame(case = "sleep", as.data.frame(VarCorr(m3))))
write_rec(vc[, c("case", "grp", "var1", "var2", "vcov")], "lmm_satt_expected_varcomp.csv")

# Type III F tests with sum-to-zero contrasts (refit under contr.sum)
op <- options(contrasts = c("contr.sum", "contr.poly"))
m1s <- update(m1); m2s <- update(m2); m3s <- update(m3)
write_rec(rbind(anova_rows(m1s, "ipsi"), anova_rows(m2s, "both"), anova_rows(m3s, "sleep")),
          "lmm_satt_expected_anova.csv")
options(op)

# Dunnett vs vehicle with Satterthwaite df: emmeans estimates/SE/df/t, single-step p by
# the integral above with each contrast's own (non-integer) df, as emmeans' "mvt"
# adjustment does (emmeans truncates df to an integer and uses Monte Carlo pmvt; its
# p is recorded too as p_emmeans).
dun <- function(fit, spec, case) {
  em <- emmeans(fit, spec, lmer.df = "satterthwaite")
  ct <- contrast(em, "trt.vs.ctrl", ref = 1, adjust = "none")
  cd <- as.data.frame(summary(ct))
  set.seed(1)
  cm <- as.data.frame(summary(contrast(em, "trt.vs.ctrl", ref = 1, adjust = "mvt")))
  V <- vcov(em); emd <- as.data.frame(em)
  byv <- setdiff(names(emd)[seq_len(which(names(emd) == "emmean") - 1)], "treatment")
  key_em <- do.call(paste, c(lapply(byv, function(b) as.character(emd[[b]])), sep = "|"))
  key_ct <- do.call(paste, c(lapply(byv, function(b) as.character(cd[[b]])), sep = "|"))
  cd$p_dunnett <- NA_real_
  for (k in unique(key_ct)) {
    e <- which(key_em == k); ctrl <- e[emd$treatment[e] == "vehicle"]; oth <- setdiff(e, ctrl)
    lam <- sqrt(V[ctrl, ctrl] / (V[ctrl, ctrl] + diag(V)[oth]))
    for (i in which(key_ct == k)) cd$p_dunnett[i] <- pdun_integral(abs(cd$t.ratio[i]), lam, cd$df[i])
  }
  out <- data.frame(case = case, by = key_ct, group = sub(" - vehicle", "", as.character(cd$contrast)),
                    estimate = cd$estimate, se = cd$SE, df = cd$df, t = cd$t.ratio,
                    p_dunnett = cd$p_dunnett, p_emmeans = cm$p.value)
  out
}
write_rec(rbind(dun(m1, ~ treatment | time, "ipsi_time"),
                dun(m2, ~ treatment | time * sex, "both_time_sex"),
                dun(m2, ~ treatment | time, "both_time")),
          "lmm_satt_expected_dunnett.csv")
cat("singular:", isSingular(m1), isSingular(m2), isSingular(m3), "\n")
