# Reference values for tests/qpcr/test_qpcr.py, written in base R from the published
# definitions (independent of nplab's code). Run from this folder: Rscript qpcr_reference.R
# ct1.csv: c-myc and GAPDH Cq, 6 brain then 6 kidney samples (R package pcr, inst/extdata/ct1.csv,
#   Ahmed & Kim 2018 PeerJ 6:e4473), used as a Livak & Schmittgen (2001) 2^-ddCt example.
# run_multi.csv: simulated run (3 reference genes, replicate wells, one "Undetermined" and one
#   Cq > 35 well, both treated as not detected).
# dilution.csv: simulated dilution series (efficiency = 10^(-1/slope), lm).
options(digits = 15)
# --- Livak on ct1
ct1 <- read.csv("ct1.csv")
grp <- rep(c("brain", "kidney"), each = 6)
dct <- ct1$c_myc - ct1$GAPDH
ddct <- dct - mean(dct[grp == "brain"])
livak <- data.frame(animal = paste0("s", 0:11), group = grp, delta_ct = dct,
                    delta_delta_ct = ddct, fold_change = 2^(-ddct))
write.csv(livak, "ct1_livak.csv", row.names = FALSE)
# --- multi-reference run
d <- read.csv("run_multi.csv", stringsAsFactors = FALSE)
d$cq <- suppressWarnings(as.numeric(d$cq))
d$cq[!is.na(d$cq) & d$cq > 35] <- NA
a <- aggregate(cq ~ animal + group + target, data = d, FUN = mean, na.action = na.omit)
refs <- c("Gapdh", "Actb", "Hprt1")
E <- c(Tnf = 1.97, Il1b = 1.92, Gapdh = 2.0, Actb = 1.95, Hprt1 = 1.9)
w <- reshape(a, idvar = c("animal", "group"), timevar = "target", direction = "wide")
names(w) <- sub("^cq\\.", "", names(w))
w$ref <- rowMeans(w[, refs])
out <- data.frame()
for (t in c("Tnf", "Il1b")) {
  dct <- w[[t]] - w$ref
  ddct <- dct - mean(dct[w$group == "sham"])
  ctrl <- sapply(c(t, refs), function(g) mean(w[[g]][w$group == "sham"]))
  rq_t <- E[t]^(ctrl[t] - w[[t]])
  rq_r <- sapply(refs, function(g) E[g]^(ctrl[g] - w[[g]]))
  nrq <- rq_t / apply(rq_r, 1, function(v) exp(mean(log(v))))
  out <- rbind(out, data.frame(animal = w$animal, group = w$group, target = t, delta_ct = dct,
                               delta_delta_ct = ddct, fold_change = 2^(-ddct), nrq = nrq))
}
write.csv(out, "run_multi_expression.csv", row.names = FALSE)
# --- efficiency
dil <- read.csv("dilution.csv")
eff <- do.call(rbind, lapply(split(dil, dil$target), function(s) {
  m <- lm(cq ~ log10(quantity), data = s)
  data.frame(target = s$target[1], slope = coef(m)[2], intercept = coef(m)[1],
             r2 = summary(m)$r.squared, efficiency = 10^(-1 / coef(m)[2]))
}))
write.csv(eff, "dilution_efficiency.csv", row.names = FALSE)
# --- geNorm M (full set), stepwise exclusion and V, on the five genes of run_multi
genes <- c("Gapdh", "Actb", "Hprt1", "Tnf", "Il1b")
X <- as.matrix(w[, genes])
Mfun <- function(X) {
  k <- ncol(X)
  sapply(seq_len(k), function(j) sum(sapply(seq_len(k)[-j], function(l) sd(X[, j] - X[, l]))) / (k - 1))
}
M <- Mfun(X)
rem <- genes; excl <- c(); mstep <- c()
while (length(rem) > 2) {
  m <- Mfun(X[, rem, drop = FALSE]); worst <- which.max(m)
  mstep[rem[worst]] <- m[worst]; excl <- c(excl, rem[worst]); rem <- rem[-worst]
}
m2 <- Mfun(X[, rem]); mstep[rem] <- m2
ranking <- c(rem, rev(excl))
V <- sapply(2:(length(genes) - 1), function(n)
  sd(rowMeans(X[, ranking[1:n], drop = FALSE]) - rowMeans(X[, ranking[1:(n + 1)], drop = FALSE])))
write.csv(data.frame(gene = genes, m = M, m_stepwise = mstep[genes]), "genorm_m.csv", row.names = FALSE)
write.csv(data.frame(label = paste0("V", 2:(length(genes) - 1), "/", 3:length(genes)), v = V,
                     ranking = paste(ranking, collapse = " ")), "genorm_v.csv", row.names = FALSE)
cat(R.version.string, "\n")
