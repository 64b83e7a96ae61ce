# Reference values for tests/behaviour/test_latency_tests.py (rotarod, cut-off 300 s).
# Rscript survival_reference.R  (R 4.x, survival 3.5-3) -> rotarod_tobit.csv, rotarod_km.csv
library(survival)
d <- read.csv("rotarod_trials.csv", stringsAsFactors = FALSE)
d$fall <- ifelse(d$cutoff_reached == "true", 0, 1)
d$animal <- factor(d$animal, levels = unique(d$animal))
# per-animal Tobit on log latency, SD pooled over the animals of the time point
fit <- survreg(Surv(log(latency_s), fall) ~ 0 + animal, data = d, dist = "gaussian")
ci <- exp(confint(fit))
tob <- data.frame(animal = levels(d$animal), tobit_latency_s = exp(coef(fit)),
                  tobit_se_log = sqrt(diag(vcov(fit)))[seq_along(coef(fit))],
                  tobit_ci_low_s = ci[, 1], tobit_ci_high_s = ci[, 2],
                  tobit_sigma_log = fit$scale)
write.csv(tob, "rotarod_tobit.csv", row.names = FALSE)
# Kaplan-Meier median per group, robust (cluster = animal) variance, log band
km <- do.call(rbind, lapply(split(d, d$group), function(g) {
  s <- survfit(Surv(latency_s, fall) ~ 1, data = g, conf.type = "log", cluster = animal)
  q <- quantile(s, 0.5)
  data.frame(group = g$group[1], km_median_s = unname(q$quantile),
             km_ci_low_s = unname(q$lower), km_ci_high_s = unname(q$upper))
}))
write.csv(km, "rotarod_km.csv", row.names = FALSE)
