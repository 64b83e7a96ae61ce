# Independent reference values for nplab.vonfrey (run: Rscript updown_reference.R > updown_reference.csv)
# Written from the model definitions, not from nplab's code:
#   P(withdrawal at level x) = pnorm((x - mu) / sigma); maximise the likelihood over mu
#   with sigma fixed (Dixon 1965/1980: unit grid, sigma = 1 step; Christensen et al. 2020
#   "exact": actual log filament values, sigma = mean log step over the filaments used,
#   as in the R package up.down.ld50, MikkelAStorm/Up.Down.Method, R/up_down_ld50.R).
#   95% CI: likelihood-ratio interval, 2*(l(mu_hat) - l(mu)) <= qchisq(0.95, 1).
# Optimisers: stats::optimize (tol 1e-12) and stats::uniroot (tol 1e-12).
nll <- function(mu, x, r, sigma) {
  -sum(pnorm(x, mean = mu, sd = sigma, lower.tail = TRUE, log.p = TRUE)[r]) -
    sum(pnorm(x, mean = mu, sd = sigma, lower.tail = FALSE, log.p = TRUE)[!r])
}
path <- function(series, start) {
  s <- strsplit(series, "")[[1]]
  r <- s == "X"
  idx <- numeric(length(s)); idx[1] <- start
  if (length(s) > 1) for (i in 2:length(s)) idx[i] <- idx[i - 1] + ifelse(r[i - 1], -1, 1)
  list(idx = idx, r = r)
}
fit <- function(x, r, sigma) {
  o <- optimize(nll, c(min(x) - 20 * sigma, max(x) + 20 * sigma), x = x, r = r,
                sigma = sigma, tol = 1e-12)
  mu <- o$minimum; l0 <- nll(mu, x, r, sigma)
  g <- function(m) nll(m, x, r, sigma) - l0 - qchisq(0.95, 1) / 2
  lo <- uniroot(g, c(mu - 50 * sigma, mu), tol = 1e-12)$root
  hi <- uniroot(g, c(mu, mu + 50 * sigma), tol = 1e-12)$root
  c(mu = mu, lo = lo, hi = hi)
}
rat_handles <- c(3.61, 3.84, 4.08, 4.31, 4.56, 4.74, 4.93, 5.18)
mouse_g <- c(0.008, 0.02, 0.04, 0.07, 0.16, 0.4, 0.6, 1, 2)
cases <- list(
  # id, kit log values, start index (1-based), series, mode
  list("grid_OOOXOXOX", NULL, 1, "OOOXOXOX", "grid"),
  list("grid_XOXOXX", NULL, 1, "XOXOXX", "grid"),
  list("grid_OXXXXX", NULL, 1, "OXXXXX", "grid"),
  list("grid_long_OOXOXOXXOXOO", NULL, 1, "OOXOXOXXOXOO", "grid"),
  list("grid_long_XXXXXOXOOXO", NULL, 1, "XXXXXOXOOXO", "grid"),
  list("exact_rat_OOOXOXOX", rat_handles, 4, "OOOXOXOX", "exact"),
  list("exact_rat_XXOXOOXO", rat_handles, 4, "XXOXOOXO", "exact"),
  list("exact_rat_OXXOXX", rat_handles, 4, "OXXOXX", "exact"),
  # up.down.ld50 help-page example: steps 0.008..2 g, end point 0.07 g, "xoxoxx";
  # end index 4 -> start index 5 (0.16 g); log10(g) scale
  list("exact_mouse_XOXOXX", log10(mouse_g), 5, "XOXOXX", "exact")
)
cat("case,mu,lo,hi,sigma,last\n")
for (cs in cases) {
  p <- path(cs[[4]], cs[[3]])
  if (cs[[5]] == "grid") {
    x <- p$idx; sigma <- 1
  } else {
    lv <- cs[[2]]; x <- lv[p$idx]
    used <- lv[min(p$idx):max(p$idx)]; sigma <- mean(diff(used))
  }
  f <- fit(x, p$r, sigma)
  cat(sprintf("%s,%.12f,%.12f,%.12f,%.12f,%.12f\n", cs[[1]], f["mu"], f["lo"], f["hi"], sigma,
              x[length(x)]))
}
