# Reference values for nplab.stats.posthoc, computed with R multcomp / mvtnorm / emmeans / afex.
# Run from this folder:  Rscript posthoc_reference.R
# Multivariate-t probabilities are computed with mvtnorm's Genz-Bretz algorithm at a tight
# absolute error (maxpts = 1e6, abseps = 1e-8: reported errors ~1e-6 absolute), so the
# recorded adjusted p-values are good to about 5 digits; critical values by uniroot on the
# same probability (qmvt's own root finding is only good to ~1e-4, too coarse here).
suppressMessages({library(multcomp); library(mvtnorm); library(emmeans); library(afex)})
options(digits = 15)
versions <- sprintf("# %s; multcomp %s; mvtnorm %s; emmeans %s; afex %s", R.version.string,
                    packageVersion("multcomp"), packageVersion("mvtnorm"),
                    packageVersion("emmeans"), packageVersion("afex"))
alg <- GenzBretz(maxpts = 1e6, abseps = 1e-8, releps = 0)
write_rec <- function(df, file) {
  con <- file(file, "w"); writeLines(versions, con); write.csv(df, con, row.names = FALSE)
  close(con); print(df)
}
# p_integral: an independent deterministic evaluation (used alone for non-integer
# Satterthwaite df, which mvtnorm 1.1 does not accept; pmvt's absolute error ~1e-6 makes
# its small p-values unreliable in relative terms).  The single-step probability P(max|T_i| >= t) is computed from Dunnett's (1955) product-
# correlation representation (corr_ij = lam_i lam_j) with R's adaptive integrate() —
# nested QUADPACK over the chi variable and the common normal (checked against pmvt for
# integer df below).
pdun_integral <- function(t, lam, df, alternative = "two.sided") {
  sig <- sqrt(1 - lam^2)
  if (alternative == "less") t <- -t
  keep <- if (alternative == "two.sided") {
    function(s, wj) prod(pnorm((t * s - lam * wj) / sig) - pnorm((-t * s - lam * wj) / sig))
  } else function(s, wj) prod(pnorm((t * s - lam * wj) / sig))
  inner <- function(s) integrate(function(w) dnorm(w) * (1 - sapply(w, function(wj)
    keep(s, wj))), -Inf, Inf, rel.tol = 1e-10, abs.tol = 1e-14)$value
  f_s <- function(s) dchisq(df * s^2, df) * 2 * df * s
  integrate(function(s) sapply(s, function(si) f_s(si) * inner(si)), 0, Inf,
            rel.tol = 1e-9, abs.tol = 1e-14)$value
}
lam_from_corr <- function(R) {   # corr_ij = lam_i lam_j (needs >= 3 comparisons)
  m <- nrow(R)
  sapply(seq_len(m), function(i) { o <- setdiff(seq_len(m), i)
    sqrt(R[i, o[1]] * R[i, o[2]] / R[o[1], o[2]]) })
}

# adjusted single-step p-values and simultaneous CI from estimates, SEs, df, correlation
mvt_table <- function(est, se, df, corr, alternative = "two.sided", level = 0.95,
                      with_crit = TRUE) {
  t <- est / se
  # product-correlation lambdas from the correlation matrix (2 comparisons: equal lambdas
  # are not identifiable from one correlation, so they are passed in via attr "lam")
  lam <- if (!is.null(attr(corr, "lam"))) attr(corr, "lam") else lam_from_corr(corr)
  p_int <- sapply(t, function(ti) pdun_integral(if (alternative == "two.sided") abs(ti) else ti,
                                                lam, df, alternative))
  if (df != round(df)) {
    return(data.frame(diff = est, se = se, t = t, df = df, p = p_int, ci_low = NA,
                      ci_high = NA, crit = NA, p_integral = p_int))
  }
  set.seed(1)
  p <- sapply(t, function(ti) {
    if (alternative == "two.sided")
      1 - pmvt(lower = rep(-abs(ti), length(t)), upper = rep(abs(ti), length(t)), df = df,
               corr = corr, algorithm = alg)
    else if (alternative == "greater")
      1 - pmvt(lower = rep(-Inf, length(t)), upper = rep(ti, length(t)), df = df,
               corr = corr, algorithm = alg)
    else 1 - pmvt(lower = rep(ti, length(t)), upper = rep(Inf, length(t)), df = df,
                  corr = corr, algorithm = alg)
  })
  m <- length(t)
  exceed <- function(c) {
    set.seed(1)
    lower <- if (alternative == "two.sided") rep(-c, m) else rep(-Inf, m)
    1 - pmvt(lower = lower, upper = rep(c, m), df = df, corr = corr, algorithm = alg)
  }
  crit <- if (with_crit) uniroot(function(c) exceed(c) - (1 - level), c(1, 6),
                                 tol = 1e-8)$root else NA_real_
  lo <- if (alternative == "less") -Inf else est - crit * se
  hi <- if (alternative == "greater") Inf else est + crit * se
  if (alternative == "two.sided") { lo <- est - crit * se; hi <- est + crit * se }
  data.frame(diff = est, se = se, t = t, df = df, p = p, ci_low = lo, ci_high = hi, crit = crit,
             p_integral = p_int)
}

# 1. Dunnett (1955) JASA 50:1096-1121, blood counts (millions of cells per mm^3):
#    control and two drugs, unequal n (6, 4, 5).
blood <- data.frame(
  group = rep(c("control", "drug_a", "drug_b"), c(6, 4, 5)),
  count = c(7.40, 8.50, 7.20, 8.24, 9.84, 8.32, 9.76, 8.80, 7.68, 9.36,
            12.80, 9.68, 12.16, 9.20, 10.55))
write.csv(blood, "posthoc_data_dunnett1955.csv", row.names = FALSE)
blood$group <- factor(blood$group)
fit <- aov(count ~ group, data = blood)
g <- glht(fit, linfct = mcp(group = "Dunnett"))
s <- summary(g, test = adjusted("single-step", algorithm = alg))
cr <- vcov(g); cr <- cov2cor(cr)
attr(cr, "lam") <- sqrt(c(4, 5) / (c(4, 5) + 6))   # lam_i = sqrt(n_i / (n_i + n_0))
out <- list()
for (alt in c("two.sided", "greater", "less")) {
  tab <- mvt_table(coef(g), sqrt(diag(vcov(g))), fit$df.residual, cr, alt)
  tab$group <- c("drug_a", "drug_b"); tab$alternative <- alt
  out[[alt]] <- tab
}
ref <- do.call(rbind, out)
ref$multcomp_p <- c(as.numeric(s$test$pvalues), rep(NA, 4))
write_rec(ref, "posthoc_expected_dunnett1955.csv")

# 2. CCI simulated study (anova_data_cci.csv), one-way Dunnett vs vehicle at time h1 and
#    with an n = 1 group (first animal of drug_high only) -- pooled error.
cci <- read.csv("anova_data_cci.csv")
h1 <- cci[cci$time == "h1", ]
h1$group <- relevel(factor(h1$group), ref = "vehicle")
keep <- h1$group != "drug_high" | h1$animal == "drug_high_01"
h1n1 <- droplevels(h1[keep, ])
out <- list()
for (nm in c("h1", "h1n1")) {
  d <- if (nm == "h1") h1 else h1n1
  f <- lm(log_threshold ~ group, data = d)
  gl <- glht(f, linfct = mcp(group = "Dunnett"))
  tab <- mvt_table(coef(gl), sqrt(diag(vcov(gl))), f$df.residual, cov2cor(vcov(gl)))
  tab$group <- sub(" - vehicle", "", names(coef(gl))); tab$case <- nm
  out[[nm]] <- tab
}
write_rec(do.call(rbind, out), "posthoc_expected_dunnett_cci.csv")

# 3. Dunnett vs vehicle at each time point from the afex mixed model (emmeans trt.vs.ctrl by
#    time), for emmeans' multivariate model (afex default) and the univariate (aov) model.
a <- aov_ez("animal", "log_threshold", cci, between = "group", within = "time",
            include_aov = TRUE)
out <- list()
for (model in c("multivariate", "univariate")) {
  em <- emmeans(a, ~ group | time, model = model)
  ct <- contrast(em, "trt.vs.ctrl", ref = "vehicle", adjust = "none")
  ctd <- as.data.frame(summary(ct))
  for (tm in unique(as.character(ctd$time))) {
    rows <- as.character(ctd$time) == tm
    V <- vcov(ct)[rows, rows]
    tab <- mvt_table(ctd$estimate[rows], ctd$SE[rows], ctd$df[rows][1], cov2cor(V),
                     with_crit = FALSE)
    tab$time <- tm; tab$group <- sub(" - vehicle", "", as.character(ctd$contrast[rows]))
    tab$model <- model
    out[[paste(model, tm)]] <- tab
  }
}
bt <- do.call(rbind, out)
# cross-check of pdun_integral against pmvt (integer df, multivariate model, time h1)
chk <- bt[bt$model == "multivariate" & bt$time == "h1", ]
ctm <- contrast(emmeans(a, ~ group | time, model = "multivariate"), "trt.vs.ctrl",
                ref = "vehicle")
rows <- as.character(as.data.frame(summary(ctm))$time) == "h1"
V <- vcov(ctm)[rows, rows]
cat("pdun_integral vs pmvt:", pdun_integral(abs(chk$t[1]), lam_from_corr(cov2cor(V)),
                                             chk$df[1]), chk$p[1], "\n")
write_rec(bt, "posthoc_expected_dunnett_bytime.csv")

# 4. Tukey all pairs (Tukey-Kramer, ptukey) at h1, and by time (multivariate model).
f <- lm(log_threshold ~ group, data = h1)
em <- emmeans(f, ~ group)
pw <- as.data.frame(summary(pairs(em, adjust = "tukey", reverse = FALSE), infer = TRUE))
pw$case <- "h1"
em2 <- emmeans(a, ~ group | time, model = "multivariate")
pw2 <- as.data.frame(summary(pairs(em2, adjust = "tukey"), infer = TRUE))
pw2$case <- paste0("bytime_", pw2$time); pw2$time <- NULL
write_rec(rbind(pw, pw2), "posthoc_expected_tukey.csv")

# 5. Declared pairs with Holm / Bonferroni / Sidak adjustment (p.adjust and emmeans CIs).
out <- list()
for (adj in c("holm", "bonferroni", "sidak", "none")) {
  # levels of em: vehicle, drug_high, drug_low, sham
  ct <- contrast(em, list("drug_high - vehicle" = c(-1, 1, 0, 0),
                          "drug_low - vehicle" = c(-1, 0, 1, 0),
                          "drug_high - drug_low" = c(0, 1, -1, 0)),
                 adjust = adj)
  r <- as.data.frame(summary(ct, infer = TRUE)); r$adjust <- adj
  out[[adj]] <- r
}
write_rec(do.call(rbind, out), "posthoc_expected_pairs.csv")
cat("levels of em:", levels(h1$group), "\n")
