# Reference values for nplab.stats.effsize (tests/stats/test_effsize.py).
# Run from this folder:  Rscript effsize_reference.R
# 1. Hedges' g: exact small-sample factor J = Gamma(df/2) / (sqrt(df/2) Gamma((df-1)/2))
#    (Hedges 1981) and the CI of the noncentrality parameter of t inverted with
#    uniroot(pt(..., ncp)) (Steiger & Fouladi 1997; the method of R effectsize::hedges_g),
#    plus the Hedges & Olkin (1985, eq. 5.8.13 / p. 86) normal-approximation SE.
# 2. partial and generalised eta^2 from afex::aov_ez on an unbalanced CCI-like mixed
#    design (Olejnik & Algina 2003; Bakeman 2005), with and without an observed factor.
options(digits = 15)
suppressPackageStartupMessages(library(afex))
out <- list()
add <- function(case, name, value) out[[length(out) + 1]] <<- data.frame(case = case, name = name, value = value)
hg <- function(x, y, conf = 0.95) {
  n1 <- length(x); n2 <- length(y); df <- n1 + n2 - 2
  sp <- sqrt(((n1 - 1) * var(x) + (n2 - 1) * var(y)) / df)
  d <- (mean(x) - mean(y)) / sp
  J <- exp(lgamma(df / 2) - log(sqrt(df / 2)) - lgamma((df - 1) / 2))
  tt <- d / sqrt(1 / n1 + 1 / n2); a <- (1 - conf) / 2
  lo <- uniroot(function(ncp) pt(tt, df, ncp) - (1 - a), c(tt - 20, tt + 20), tol = 1e-13)$root
  hi <- uniroot(function(ncp) pt(tt, df, ncp) - a, c(tt - 20, tt + 20), tol = 1e-13)$root
  g <- d * J
  se <- sqrt((n1 + n2) / (n1 * n2) + g^2 / (2 * (n1 + n2)))
  c(d = d, g = g, lo = lo * sqrt(1 / n1 + 1 / n2) * J, hi = hi * sqrt(1 / n1 + 1 / n2) * J,
    nlo = g - qnorm(1 - a) * se, nhi = g + qnorm(1 - a) * se)
}
m <- mtcars
write.csv(data.frame(mpg = m$mpg, am = ifelse(m$am == 1, "manual", "automatic")), "effsize_mtcars.csv", row.names = FALSE)
r <- hg(m$mpg[m$am == 0], m$mpg[m$am == 1]); for (nm in names(r)) add("mtcars", nm, r[[nm]])
r <- hg(m$mpg[m$am == 0], m$mpg[m$am == 1], conf = 0.9); for (nm in names(r)) add("mtcars90", nm, r[[nm]])
x <- c(4.1, 5.3, 3.8, 6.0, 4.9); y <- c(2.0, 1.4, 2.9, 1.1)
r <- hg(x, y); for (nm in names(r)) add("small", nm, r[[nm]])

set.seed(3)
ids <- data.frame(rat = sprintf("r%02d", 1:22), group = rep(c("vehicle", "low", "high"), c(8, 7, 7)))
d <- merge(ids, data.frame(time = c("pre", "h1", "h2", "h4")))
eff <- c(vehicle = 0, low = 0.4, high = 0.9)[d$group] * (d$time != "pre")
d$y <- round(0.3 + eff + rnorm(nrow(d), 0, 0.25) + rep(rnorm(22, 0, 0.2), 4)[match(d$rat, ids$rat)], 4)
write.csv(d, "effsize_mixed.csv", row.names = FALSE)
fit <- aov_ez("rat", "y", d, between = "group", within = "time")
u <- summary(fit)$univariate.tests
a <- anova(fit, es = c("pes", "ges"), correction = "none")
ao <- anova(fit, es = "ges", observed = "group", correction = "none")
for (src in rownames(a)) {
  add(src, "ss", u[src, "Sum Sq"]); add(src, "ss_error", u[src, "Error SS"])
  add(src, "df1", a[src, "num Df"]); add(src, "df2", a[src, "den Df"]); add(src, "F", a[src, "F"])
  add(src, "pes", a[src, "pes"]); add(src, "ges", a[src, "ges"]); add(src, "ges_obs_group", ao[src, "ges"])
}
write.csv(do.call(rbind, out), "effsize_values.csv", row.names = FALSE)
