# Independent reference values for tests/stats/test_review_stats.py (review1).
# Run from this folder:  Rscript review_np.R   (R 4.2.2; base stats only)
# Writes review_np_kw.csv and review_np_friedman.csv and prints the values recorded in
# the test.  Data: log-normal thresholds rounded to 0.1 g (ties), groups of 6, 5, 1 and 7
# (a group of n = 1); a Friedman design with ties within subjects.
set.seed(7)
d <- data.frame(g = rep(c("veh","lo","hi","pos"), c(6,5,1,7)))
d$y <- round(rlnorm(nrow(d)), 1)
d$y[c(2,3)] <- d$y[4]
write.csv(d, "review_np_kw.csv", row.names=FALSE)
k <- kruskal.test(y ~ g, d); cat(sprintf("KW %.15g %d %.15g\n", k$statistic, k$parameter, k$p.value))
w <- suppressWarnings(wilcox.test(d$y[d$g=="veh"], d$y[d$g=="pos"]))
cat(sprintf("MW %.15g %.15g\n", w$statistic, w$p.value))
x <- c(1.1,2.2,3.5,4.1); y <- c(0.5,0.7,5.2)
w <- wilcox.test(x, y); cat(sprintf("MWexact %.15g %.15g\n", w$statistic, w$p.value))
w <- wilcox.test(x, y, alternative="less"); cat(sprintf("MWexactless %.15g %.15g\n", w$statistic, w$p.value))
f <- data.frame(s=rep(1:5, each=4), t=rep(c("b","p","1","2"),5),
                y=c(1,2,2,3, 4,4,4,1, 2,3,1,5, 6,5,4,3, 1,1,2,2))
write.csv(f, "review_np_friedman.csv", row.names=FALSE)
fr <- friedman.test(y ~ t | s, f); cat(sprintf("FR %.15g %d %.15g\n", fr$statistic, fr$parameter, fr$p.value))
p <- power.t.test(delta=1, sd=1, power=0.9, tol=1e-12); cat(sprintf("PT n %.15g\n", p$n))
p <- power.t.test(n=10, delta=1.2, sd=1); cat(sprintf("PT pow %.15g\n", p$power))
p <- power.t.test(n=10, delta=1.2, sd=1, alternative="one.sided"); cat(sprintf("PT pow1 %.15g\n", p$power))
p <- power.anova.test(groups=4, between.var=1, within.var=3, power=.80); cat(sprintf("PA n %.15g\n", p$n))
p <- power.anova.test(groups=4, n=5, between.var=1, within.var=3); cat(sprintf("PA pow %.15g\n", p$power))
# Hedges' g: pooled-SD d, exact J, CI by inverting the noncentral t (pt) with uniroot
x <- c(5.1,4.8,6.2,5.9,5.5); y <- c(4.1,4.4,3.9,5.0,4.2,4.6); na <- 5; nb <- 6; df <- na + nb - 2
sp <- sqrt(((na-1)*var(x) + (nb-1)*var(y))/df); d <- (mean(x) - mean(y))/sp
J <- exp(lgamma(df/2) - log(sqrt(df/2)) - lgamma((df-1)/2)); t <- d/sqrt(1/na + 1/nb)
lo <- uniroot(function(n) pt(t, df, n) - 0.975, c(-20, 20), tol=1e-13)$root
hi <- uniroot(function(n) pt(t, df, n) - 0.025, c(-20, 20), tol=1e-13)$root
cat(sprintf("HG %.12f %.12f %.12f %.12f\n", d, d*J, lo*sqrt(1/na+1/nb)*J, hi*sqrt(1/na+1/nb)*J))
