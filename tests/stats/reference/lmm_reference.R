# Reference values for nplab.stats.mixedlm.mixed_model (REML linear mixed models), with lme4
# and emmeans.  Run from this folder:  Rscript lmm_reference.R
suppressMessages({library(lme4); library(emmeans)})
options(digits = 15)
versions <- sprintf("# %s; lme4 %s; emmeans %s", R.version.string,
                    packageVersion("lme4"), packageVersion("emmeans"))
write_rec <- function(df, file) {
  con <- file(file, "w"); writeLines(versions, con); write.csv(df, con, row.names = FALSE)
  close(con); print(df)
}
fixed_table <- function(fit, case) {
  cf <- summary(fit)$coefficients
  data.frame(case = case, term = rownames(cf), estimate = cf[, 1], se = cf[, 2])
}
vc_table <- function(fit, case) {
  vc <- as.data.frame(VarCorr(fit))
  data.frame(case = case, grp = vc$grp, var1 = vc$var1, var2 = vc$var2, vcov = vc$vcov)
}

# 1. sleepstudy (Belenky et al. 2003, J Sleep Res 12:1-12; shipped with lme4).
#    Published REML fit (Bates et al. 2015, J Stat Softw 67(1), sec. 1 / lme4 docs):
#    intercept 251.405 (SE 6.825), Days 10.467 (SE 1.546).
data(sleepstudy, package = "lme4")
write.csv(sleepstudy, "lmm_data_sleepstudy.csv", row.names = FALSE)
f1 <- lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = TRUE)
f2 <- lmer(Reaction ~ Days + (1 | Subject), sleepstudy, REML = TRUE)
fx <- rbind(fixed_table(f1, "slope"), fixed_table(f2, "intercept"))
vc <- rbind(vc_table(f1, "slope"), vc_table(f2, "intercept"))

# 2. CCI-like design with missing time points: anova_data_cci.csv minus 9 observations.
cci <- read.csv("anova_data_cci.csv")
drop <- c(5, 17, 40, 41, 77, 100, 118, 130, 151)   # 1-based rows removed
cmiss <- cci[-drop, ]
write.csv(cmiss, "lmm_data_cci_missing.csv", row.names = FALSE)
cmiss$group <- factor(cmiss$group, levels = c("sham", "vehicle", "drug_low", "drug_high"))
cmiss$time <- factor(cmiss$time, levels = c("BL", "D14", "h0.5", "h1", "h2", "h4"))
f3 <- lmer(log_threshold ~ group * time + (1 | animal), cmiss, REML = TRUE)
fx <- rbind(fx, fixed_table(f3, "cci"))
vc <- rbind(vc, vc_table(f3, "cci"))
write_rec(fx, "lmm_expected_fixed.csv")
write_rec(vc, "lmm_expected_varcomp.csv")

# estimated marginal means: Wald (asymptotic) inference, as statsmodels gives
em <- as.data.frame(emmeans(f3, ~ group * time, lmer.df = "asymptotic"))
em$case <- "group_time"; em$time <- as.character(em$time); em$group <- as.character(em$group)
em_g <- as.data.frame(emmeans(f3, ~ group, lmer.df = "asymptotic"))
em_g$time <- NA; em_g$case <- "group"; em_g$group <- as.character(em_g$group)
em_s <- as.data.frame(emmeans(f1, ~ Days, at = list(Days = c(0, 4.5, 9)), lmer.df = "asymptotic"))
names(em_s)[1] <- "time"; em_s$time <- as.character(em_s$time); em_s$group <- NA; em_s$case <- "sleep_days"
cols <- c("case", "group", "time", "emmean", "SE", "asymp.LCL", "asymp.UCL")
write_rec(rbind(em[, cols], em_g[, cols], em_s[, cols]), "lmm_expected_emmeans.csv")

# Dunnett vs vehicle at each time point from the mixed model (asymptotic/Wald, df = Inf):
# estimates and SEs from emmeans; single-step p from mvtnorm::pmvnorm (Genz-Bretz,
# abseps 1e-9) with the contrasts' correlation matrix.
suppressMessages(library(mvtnorm))
alg <- GenzBretz(maxpts = 1e6, abseps = 1e-9, releps = 0)
ct <- contrast(emmeans(f3, ~ group | time, lmer.df = "asymptotic"), "trt.vs.ctrl",
               ref = "vehicle", adjust = "none")
ctd <- as.data.frame(summary(ct))
V <- vcov(ct)
ctd$p_mvt <- NA_real_
for (tm in unique(as.character(ctd$time))) {
  rows <- which(as.character(ctd$time) == tm)
  R <- cov2cor(V[rows, rows])
  for (i in rows) {
    z <- abs(ctd$z.ratio[i]); set.seed(1)
    ctd$p_mvt[i] <- 1 - pmvnorm(lower = rep(-z, length(rows)), upper = rep(z, length(rows)),
                                corr = R, algorithm = alg)
  }
}
ctd$group <- sub(" - vehicle", "", as.character(ctd$contrast))
ctd$time <- as.character(ctd$time)
write_rec(ctd[, c("time", "group", "estimate", "SE", "z.ratio", "p_mvt")],
          "lmm_expected_dunnett.csv")
