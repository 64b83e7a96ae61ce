# SUDO (Bonin et al. 2014, Mol Pain 10:26) reference: log-linear fit of log10(force, g)
# on filament number 1..n with stats::lm, and grams at fractional filament numbers.
# Run: Rscript sudo_reference.R > sudo_reference.csv
kits <- list(
  "mouse-9" = c(0.008, 0.02, 0.04, 0.07, 0.16, 0.4, 0.6, 1, 2),
  "chaplan-rat" = c(0.4, 0.6, 1, 2, 4, 6, 8, 15)
)
cat("kit,filament,slope,intercept,grams\n")
for (name in names(kits)) {
  g <- kits[[name]]
  f <- seq_along(g)
  fit <- lm(log10(g) ~ f)
  for (x in c(0.5, 3.5, 4.5, 5.5, 6.5, 7.5, 9.5)) {
    pred <- 10^predict(fit, data.frame(f = x))
    cat(sprintf("%s,%.1f,%.12f,%.12f,%.12f\n", name, x, coef(fit)[2], coef(fit)[1], pred))
  }
}
