# Reference for tests/vonfrey/test_percent.py: psychometric 50 % point on log10(dose),
# binomial GLM (logit and probit) and MASS::dose.p (delta-method SE of the log dose).
# Budworm data: Collett (1991), Venables & Ripley (2002) MASS 4th ed. section 7.2
# (doses 1..32 ug = 2^ldose).  Rscript percent_reference.R  -> percent_reference.csv
library(MASS)
d <- read.csv("budworm.csv")
rows <- list()
for (s in c("M", "F")) for (lk in c("logit", "probit")) {
  x <- d[d$sex == s, ]
  fit <- glm(cbind(n_withdrawals, n_applied - n_withdrawals) ~ log10(dose_ug), data = x,
             family = binomial(link = lk))
  dp <- dose.p(fit, p = 0.5)
  rows[[length(rows) + 1]] <- data.frame(sex = s, link = lk, log10_threshold = as.numeric(dp),
    se_log10 = as.numeric(attr(dp, "SE")), intercept = coef(fit)[1], slope_log10 = coef(fit)[2])
}
write.csv(do.call(rbind, rows), "percent_reference.csv", row.names = FALSE)
