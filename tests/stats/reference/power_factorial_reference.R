# Reference values for nplab.stats.power_paw_contrast and power_interaction (issue 14.8).
# Run from this folder:  Rscript power_factorial_reference.R  -> power_paw_values.csv, power_interaction_sim.csv
# (1) within-animal paw contrast = paired t test on ipsi - contra:
#     power.t.test(type = "paired", delta, sd = sigma * sqrt(2 * (1 - rho)))
# (2) group x paw contrast between two groups = two-sample t test on the paw differences:
#     power.t.test(type = "two.sample", delta, sd = sigma * sqrt(2 * (1 - rho)))
# (3) treatment x sex interaction of a between-animal factorial (cell means, common SD):
#     Monte Carlo power of the Type III interaction F test (car::Anova type 3, contr.sum),
#     20000 simulated studies per case (SE of a power <= 0.0036), to check the noncentral F
#     formula lambda = N f^2 (G*Power "ANOVA: fixed effects, special, main effects and
#     interactions"; Cohen 1988 section 8.3.4).
suppressMessages(library(car))
options(digits = 15, contrasts = c("contr.sum", "contr.poly"))
out <- list()
for (n in c(8, 10, 12)) for (rho in c(0.3, 0.6)) {
  sd_d <- 0.2 * sqrt(2 * (1 - rho))
  out[[length(out) + 1]] <- data.frame(case = "paired", delta = 0.15, sigma = 0.2, rho = rho,
    n = n, power = power.t.test(n = n, delta = 0.15, sd = sd_d, type = "paired")$power)
  out[[length(out) + 1]] <- data.frame(case = "two_groups", delta = 0.15, sigma = 0.2, rho = rho,
    n = n, power = power.t.test(n = n, delta = 0.15, sd = sd_d, type = "two.sample")$power)
}
r <- do.call(rbind, out)
r$n_for_80 <- NA
for (i in seq_len(nrow(r))) {
  sd_d <- r$sigma[i] * sqrt(2 * (1 - r$rho[i]))
  r$n_for_80[i] <- power.t.test(power = 0.8, delta = r$delta[i], sd = sd_d,
    type = if (r$case[i] == "paired") "paired" else "two.sample")$n
}
write.csv(r, "power_paw_values.csv", row.names = FALSE)
# interaction: 3 treatments x 2 sexes, duloxetine effect larger in females
mu <- rbind(c(0.25, 0.25), c(0.45, 0.45), c(0.65, 0.95))  # rows treatment, cols sex (M, F)
sim <- list(); set.seed(1408)
for (n in c(6, 10)) {
  cells <- expand.grid(sex = factor(c("M", "F")), trt = factor(1:3))
  d <- cells[rep(seq_len(nrow(cells)), each = n), ]
  m <- mu[cbind(as.integer(d$trt), ifelse(d$sex == "M", 1, 2))]
  X <- model.matrix(~ trt * sex, d)
  hit <- replicate(20000, {
    y <- m + rnorm(nrow(d), 0, 0.2)
    fit <- lm(y ~ trt * sex, d)
    Anova(fit, type = 3)["trt:sex", "Pr(>F)"] < 0.05
  })
  sim[[length(sim) + 1]] <- data.frame(n = n, sigma = 0.2, power_sim = mean(hit),
                                       se = sqrt(mean(hit) * (1 - mean(hit)) / 20000))
}
write.csv(do.call(rbind, sim), "power_interaction_sim.csv", row.names = FALSE)
print(r); print(do.call(rbind, sim))
