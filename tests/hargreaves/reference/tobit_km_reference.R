# Independent reference values for nplab.hargreaves (censored estimators).
# Run from this folder:  Rscript tobit_km_reference.R
# Writes tobit_reference.csv and km_reference.csv (recorded; the tests compare to them).
# R 4.x, survival 3.5-x.
library(survival)
d <- read.csv("trials_reference.csv", stringsAsFactors = FALSE)
d$event <- ifelse(d$cutoff_reached %in% c("True", "TRUE", "true"), 0, 1)

# 1. Tobit / censored-normal on log latency: one location per animal, pooled scale,
#    per paw x timepoint.  Same model as survreg(Surv(latency, event) ~ 0 + animal,
#    dist = "lognormal").
ctl <- survreg.control(rel.tolerance = 1e-13, toler.chol = 1e-15, iter.max = 200)
out <- list()
for (paw in unique(d$paw)) for (tp in unique(d$timepoint)) {
  s <- d[d$paw == paw & d$timepoint == tp, ]
  has_event <- tapply(s$event, s$animal, sum) > 0
  s <- s[s$animal %in% names(has_event)[has_event], ]
  s$animal <- factor(s$animal)
  fit <- survreg(Surv(log(latency_s), event) ~ 0 + animal, data = s,
                 dist = "gaussian", control = ctl)
  fit2 <- survreg(Surv(latency_s, event) ~ 0 + animal, data = s,
                  dist = "lognormal", control = ctl)
  stopifnot(max(abs(coef(fit) - coef(fit2))) < 1e-8)
  se <- sqrt(diag(vcov(fit)))
  k <- length(coef(fit))
  ci <- exp(confint(fit, level = 0.95))
  out[[length(out) + 1]] <- data.frame(
    paw = paw, timepoint = tp, animal = levels(s$animal),
    mu = unname(coef(fit)), se_mu = unname(se[1:k]),
    sigma = fit$scale, se_log_sigma = unname(se[k + 1]),
    loglik = fit$loglik[2], df = nrow(s) - nlevels(s$animal),
    confint_low = unname(ci[, 1]), confint_high = unname(ci[, 2]))
}
tob <- do.call(rbind, out)
write.csv(format(tob, digits = 15), "tobit_reference.csv", row.names = FALSE, quote = FALSE)

# 2. Kaplan-Meier median latency per group x paw x timepoint (log CI; Greenwood, and
#    robust with cluster = animal).
km <- list()
for (g in unique(d$group)) for (paw in unique(d$paw)) for (tp in unique(d$timepoint)) {
  s <- d[d$group == g & d$paw == paw & d$timepoint == tp, ]
  f <- survfit(Surv(latency_s, event) ~ 1, data = s, conf.type = "log", conf.int = 0.95)
  q <- quantile(f, probs = 0.5)
  # robust (infinitesimal jackknife) variance with trials clustered within animals
  fc <- survfit(Surv(latency_s, event) ~ 1, data = s, cluster = animal, conf.type = "log",
                conf.int = 0.95)
  qc <- quantile(fc, probs = 0.5)
  km[[length(km) + 1]] <- data.frame(
    group = g, paw = paw, timepoint = tp, n = nrow(s), n_censored = sum(s$event == 0),
    median = unname(q$quantile), lower = unname(q$lower), upper = unname(q$upper),
    lower_cluster = unname(qc$lower), upper_cluster = unname(qc$upper))
}
# extra hand-made cases: tie exactly at 0.5, curve ending at 0.5, no censoring
extra <- list(
  tie = list(t = c(1, 2, 3, 4), e = c(1, 1, 1, 1)),
  end_half = list(t = c(5, 6, 20, 20), e = c(1, 1, 0, 0)),
  mixed = list(t = c(3.1, 4.2, 4.2, 5.5, 7.0, 8.8, 9.9, 12.5, 20, 20, 20), e = c(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0)),
  ties_cens = list(t = c(2, 2, 3, 5, 5, 5, 8, 13, 20, 20), e = c(1, 1, 1, 1, 1, 1, 1, 1, 0, 0)))
for (nm in names(extra)) {
  x <- extra[[nm]]
  f <- survfit(Surv(x$t, x$e) ~ 1, conf.type = "log", conf.int = 0.95)
  q <- quantile(f, probs = 0.5)
  km[[length(km) + 1]] <- data.frame(
    group = nm, paw = "", timepoint = "", n = length(x$t), n_censored = sum(x$e == 0),
    median = unname(q$quantile), lower = unname(q$lower), upper = unname(q$upper),
    lower_cluster = NA, upper_cluster = NA)
}
kmd <- do.call(rbind, km)
write.csv(format(kmd, digits = 15), "km_reference.csv", row.names = FALSE, quote = FALSE)
