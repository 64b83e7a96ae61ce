# Reference values for tests/stats/test_review4_stats.py (review4).
# Data: review4_data.csv — 5 groups (n = 5, 4, 6, 3, 1; "solo" has n = 1), 5 time points
# stored as integers in shuffled row order (file order 240, 0, 30, 120, 60), string ids.
# Run from this folder: Rscript review4_reference.R   (R 4.x, afex 1.x, multcomp, mvtnorm)
suppressMessages({library(afex); library(multcomp); library(mvtnorm)})
d <- read.csv("review4_data.csv")
d$time <- factor(d$time); d$group <- factor(d$group); d$animal <- factor(d$animal)
a <- aov_ez(id = "animal", dv = "y", between = "group", within = "time", data = d, type = 3)
s <- summary(a)
print(s$univariate.tests, digits = 12); print(s$pval.adjustments, digits = 12)
print(s$sphericity.tests, digits = 12)
print(anova(a, es = c("pes", "ges"), correction = "none"), digits = 12)

# Dunnett vs vehicle at time 60 (one-way, pooled error, df = 14), multcomp:
d60 <- subset(d, time == "60"); d60$group <- relevel(droplevels(d60$group), "vehicle")
g <- glht(aov(y ~ group, d60), linfct = mcp(group = "Dunnett"))
set.seed(1)
print(summary(g, test = adjusted("single-step", abseps = 1e-7, maxpts = 2e6)), digits = 10)
print(confint(g, calpha = adjusted_calpha(abseps = 1e-7, maxpts = 2e6)), digits = 10)
for (alt in c("greater", "less")) {
  gg <- glht(aov(y ~ group, d60), linfct = mcp(group = "Dunnett"), alternative = alt)
  print(summary(gg, test = adjusted("single-step", abseps = 1e-7, maxpts = 2e6)), digits = 10)
}
# ... and independently by nested adaptive quadrature of Dunnett's (1955) product-
# correlation integral (multcomp's randomised QMC is only good to ~1e-6 absolute):
nn <- table(d60$group); n0 <- nn[["vehicle"]]
ni <- as.numeric(nn[c("sham", "drugA", "drugB", "solo")])
lam <- sqrt(ni / (ni + n0)); sig <- sqrt(1 - lam^2)
dchi <- function(x, k) exp((1 - k / 2) * log(2) + (k - 1) * log(x) - x^2 / 2 - lgamma(k / 2))
inner <- function(cs) integrate(function(w) sapply(w, function(wi)
  dnorm(wi) * prod(pnorm((cs - lam * wi) / sig) - pnorm((-cs - lam * wi) / sig))),
  -Inf, Inf, rel.tol = 1e-12)$value
P <- function(c, df) 1 - integrate(function(s) sapply(s, function(si)
  sqrt(df) * dchi(si * sqrt(df), df) * inner(c * si)), 0, Inf, rel.tol = 1e-11)$value
for (t in c(1.9465814375, 4.7059354126, -0.4736824574, 1.2198208139)) print(P(t, 14), digits = 10)
print(uniroot(function(c) P(c, 14) - 0.05, c(2.5, 3), tol = 1e-12)$root, digits = 12)
# Tukey all pairs at time 60
print(TukeyHSD(aov(y ~ group, d60))$group, digits = 10)
