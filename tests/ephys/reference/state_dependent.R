# Reference values for tests/ephys/test_state.py (independent of nplab).
# Run: Rscript tests/ephys/reference/state_dependent.R
# Bean, Cohen & Tsien (1983) / Bean (1984): 1/Kapp = h/KR + (1-h)/KI;
# dV1/2 = -k ln[(1 + D/KI)/(1 + D/KR)];  availability h(V) = 1/(1 + exp((V - V1/2)/k)).
options(digits = 15)
KR <- 20; KI <- 0.24
h <- c(1, 0.9, 0.5, 0.1)
kapp <- 1 / (h / KR + (1 - h) / KI)
cat("kapp:", sprintf("%.12f", kapp), "\n")
# invert the pair (h = 1, Kapp = 20) and (h = 0.5, Kapp = kapp[3]) with solve()
A <- rbind(c(1, 0), c(0.5, 0.5))
ab <- solve(A, c(1 / 20, 1 / kapp[3]))
cat("KR, KI from pair (1, 0.5):", sprintf("%.12f", 1 / ab), "\n")
# a second, asymmetric pair: h1 = 0.95 (Kapp = 4.0 uM), h2 = 0.3 (Kapp = 0.5 uM)
A2 <- rbind(c(0.95, 0.05), c(0.3, 0.7))
ab2 <- solve(A2, c(1 / 4.0, 1 / 0.5))
cat("KR, KI from pair (0.95 @ 4, 0.3 @ 0.5):", sprintf("%.12f", 1 / ab2), "\n")
# delta-method SE with se(Kapp1) = 0.4, se(Kapp2) = 0.05 (independent), numerically
f <- function(k) { ab <- solve(A2, 1 / k); 1 / ab }
J <- numDeriv_jac <- sapply(1:2, function(j) { e <- c(0, 0); e[j] <- 1e-6 * c(4, 0.5)[j];
  (f(c(4, 0.5) + e) - f(c(4, 0.5) - e)) / (2 * e[j]) })
V <- diag(c(0.4, 0.05)^2)
cat("SE(KR), SE(KI):", sprintf("%.10f", sqrt(diag(J %*% V %*% t(J)))), "\n")
D <- c(0.1, 0.24, 1, 3)
dv <- -6 * log((1 + D / KI) / (1 + D / KR))
cat("dV1/2 (k = 6 mV):", sprintf("%.12f", dv), "\n")
cat("h(-80 | V1/2 = -75, k = 6):", sprintf("%.12f", 1 / (1 + exp((-80 + 75) / 6))), "\n")
# KI back from a set of noisy shifts by least squares (optimize on log KI)
dvn <- dv + c(0.3, -0.2, 0.25, -0.1)
sse <- function(lk) sum((dvn + 6 * log((1 + D / exp(lk)) / (1 + D / KR)))^2)
o <- optimize(sse, c(log(1e-4), log(1e3)), tol = 1e-14)
cat("KI from noisy shifts:", sprintf("%.10f", exp(o$minimum)), "\n")
