# Independent reference (base R nls + optimHess; no drc, no nplab) for a three-curve
# fit with SHARED parameters and zero-dose controls:
#   threecurves.csv (synthetic, seeded numpy draw rounded to 0.01; 61 rows, curves
#   A/B/C with 18/27/16 points, curve C lacks the 0.01 dose).
# Models (drc parameterisation, Ritz et al. 2015 PLoS ONE 10:e0146021):
#   LL.4  f = c_g + (d - c_g) / (1 + exp(b (log x - log e_g)))       shared b, d
#   W1.4  f = c + (d - c) exp(-exp(b_g (log x - log e_g)))           shared c, d
# vcov = s^2 solve(H / 2), H = observed Hessian of the RSS (drc vcov.drc), analytic
# gradient; ED50 (relative, from the control) with delta SE; relative potency A/B of
# ED50 with delta SE and Fieller limits (t on the residual df).
#   Rscript threecurves_nls.R   (run in this folder; writes threecurves_nls.csv)
options(digits = 15)
td <- read.csv("threecurves.csv")
dd <- data.frame(x = td$dose_um, y = td$current_pct, g = as.integer(factor(td$compound)))
out <- data.frame(case = character(), quantity = character(), value = numeric())
add <- function(case, quantity, value) out <<- rbind(out, data.frame(case = case, quantity = quantity, value = value))
lx <- ifelse(dd$x > 0, log(pmax(dd$x, 1e-300)), -Inf)

fieller <- function(m1, m2, v11, v22, v12, q) {
  f0 <- m1 * m2 - q^2 * v12
  den <- m2^2 - q^2 * v22
  disc <- f0^2 - (m1^2 - q^2 * v11) * den
  c((f0 - sqrt(disc)) / den, (f0 + sqrt(disc)) / den)
}

report <- function(case, p, f, jac, edfun) {
  r <- dd$y - f(p)
  rss <- sum(r^2); df <- nrow(dd) - length(p); s2 <- rss / df
  rss_fun <- function(q) sum((dd$y - f(q))^2)
  gr_fun <- function(q) as.vector(-2 * t(jac(q)) %*% (dd$y - f(q)))
  H <- optimHess(p, rss_fun, gr_fun, control = list(ndeps = 1e-4 * pmax(abs(p), 1e-2)))
  V <- s2 * solve(H / 2)
  for (i in seq_along(p)) {
    add(case, paste0("estimate_", names(p)[i]), p[[i]])
    add(case, paste0("se_", names(p)[i]), sqrt(V[i, i]))
  }
  add(case, "rss", rss); add(case, "df_resid", df); add(case, "residual_se", sqrt(s2))
  q <- qt(0.975, df)
  eds <- list(); grads <- list()
  for (k in 1:3) {
    ed <- edfun(p, k)
    g <- sapply(seq_along(p), function(i) {
      h <- 1e-6 * max(abs(p[i]), 1e-3); a1 <- p; a2 <- p; a1[i] <- a1[i] + h; a2[i] <- a2[i] - h
      (edfun(a1, k) - edfun(a2, k)) / (2 * h)
    })
    eds[[k]] <- ed; grads[[k]] <- g
    add(case, paste0("ed50_", k), ed)
    add(case, paste0("ed50_se_", k), sqrt(as.numeric(t(g) %*% V %*% g)))
  }
  e1 <- eds[[1]]; e2 <- eds[[2]]; g1 <- grads[[1]]; g2 <- grads[[2]]
  rr <- e1 / e2; gr <- (g1 - rr * g2) / e2
  add(case, "rp12_ratio", rr)
  add(case, "rp12_se", sqrt(as.numeric(t(gr) %*% V %*% gr)))
  fl <- fieller(e1, e2, as.numeric(t(g1) %*% V %*% g1), as.numeric(t(g2) %*% V %*% g2),
                as.numeric(t(g1) %*% V %*% g2), q)
  add(case, "rp12_fieller_low", fl[1]); add(case, "rp12_fieller_high", fl[2])
}

## ---- LL.4, shared hill (b) and top (d); curve-specific bottom (c) and ic50 (e) ----
# parameter vector: b, c1, c2, c3, d, e1, e2, e3
f_ll <- function(p) {
  c <- p[1 + dd$g]; e <- p[5 + dd$g]
  c + (p[5] - c) / (1 + exp(p[1] * (lx - log(e))))
}
j_ll <- function(p) {
  c <- p[1 + dd$g]; e <- p[5 + dd$g]; b <- p[1]; d <- p[5]
  z <- b * (lx - log(e)); s <- 1 / (1 + exp(z)); pos <- dd$x > 0
  dz <- -(d - c) * s * (1 - s)
  J <- matrix(0, nrow(dd), 8)
  J[, 1] <- ifelse(pos, dz * (lx - log(e)), 0)
  for (k in 1:3) {
    J[, 1 + k] <- ifelse(dd$g == k, 1 - s, 0)
    J[, 5 + k] <- ifelse(dd$g == k & pos, -dz * b / e, 0)
  }
  J[, 5] <- s
  J
}
m1 <- nls(y ~ c[g] + (d - c[g]) / (1 + exp(b * (log(x) - log(e[g])))), data = dd,
          start = list(b = 1, c = c(5, 10, 5), d = 100, e = c(0.5, 2, 8)),
          control = nls.control(tol = 1e-7, scaleOffset = 1, maxiter = 500))
cf <- coef(m1)
p <- c(b = cf[["b"]], c1 = cf[["c1"]], c2 = cf[["c2"]], c3 = cf[["c3"]], d = cf[["d"]],
       e1 = cf[["e1"]], e2 = cf[["e2"]], e3 = cf[["e3"]])
report("LL4_shared_hill_top", p, f_ll, j_ll, function(p, k) p[[5 + k]])

## ---- W1.4, shared bottom (c) and top (d); curve-specific hill (b) and e -------------
# parameter vector: b1, b2, b3, c, d, e1, e2, e3
f_w1 <- function(p) {
  b <- p[dd$g]; e <- p[5 + dd$g]
  p[4] + (p[5] - p[4]) * exp(-exp(b * (lx - log(e))))
}
j_w1 <- function(p) {
  b <- p[dd$g]; e <- p[5 + dd$g]; c <- p[4]; d <- p[5]
  z <- b * (lx - log(e)); w <- exp(z); s <- exp(-w); pos <- dd$x > 0
  dz <- -(d - c) * exp(z - w)
  J <- matrix(0, nrow(dd), 8)
  for (k in 1:3) {
    J[, k] <- ifelse(dd$g == k & pos, dz * (lx - log(e)), 0)
    J[, 5 + k] <- ifelse(dd$g == k & pos, -dz * b / e, 0)
  }
  J[, 4] <- 1 - s; J[, 5] <- s
  J
}
m2 <- nls(y ~ c + (d - c) * exp(-exp(b[g] * (log(x) - log(e[g])))), data = dd,
          start = list(b = c(1, 1, 1), c = 5, d = 100, e = c(0.5, 3, 10)),
          control = nls.control(tol = 1e-7, scaleOffset = 1, maxiter = 500))
cf <- coef(m2)
p <- c(b1 = cf[["b1"]], b2 = cf[["b2"]], b3 = cf[["b3"]], c = cf[["c"]], d = cf[["d"]],
       e1 = cf[["e1"]], e2 = cf[["e2"]], e3 = cf[["e3"]])
# drc weibull1 ED_p (relative, b > 0): e exp(log(-log((100 - p) / 100)) / b)
report("W14_shared_bottom_top", p, f_w1, j_w1,
       function(p, k) p[[5 + k]] * exp(log(-log(0.5)) / p[[k]]))
write.csv(out, "threecurves_nls.csv", row.names = FALSE)
