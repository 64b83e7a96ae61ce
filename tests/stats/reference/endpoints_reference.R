# Reference values for nplab.stats.endpoints (tests/stats/test_endpoints.py).
# Run from this folder:  Rscript endpoints_reference.R  -> writes endpoints_values.csv
# Independent base-R coding of the definitions: change = post - pre,
# %MPE = (post - pre)/(cutoff - pre)*100, % reversal = (post - pre)/(baseline - pre)*100,
# trapezoidal AUC over hours (with the pre-dose point at t = 0, and post-dose only),
# ipsi - contra; log10 scale (Mills et al. 2012) and linear scale; cut-off 15 g.
options(digits = 15)
d <- read.csv("endpoints_data.csv", stringsAsFactors = FALSE)
cutoff <- 15
trap <- function(t, y) if (any(is.na(y))) NA else sum(diff(t) * (head(y, -1) + tail(y, -1)) / 2)
out <- list()
add <- function(...) out[[length(out) + 1]] <<- data.frame(...)
for (sc in c("log10", "linear")) {
  tf <- if (sc == "log10") log10 else identity
  cut <- tf(cutoff)
  for (r in unique(d$rat)) for (p in c("ipsi", "contra")) {
    s <- d[d$rat == r & d$paw == p, ]
    v <- setNames(tf(s$threshold_g), s$time)
    bl <- v[["BL"]]; pre <- v[["pre"]]
    tt <- c(0.5, 1, 2); post <- v[c("0.5", "1", "2")]
    ch <- post - pre
    mpe <- if (cut - pre == 0) rep(NA, 3) else ch / (cut - pre) * 100
    rev <- if (bl - pre == 0) rep(NA, 3) else ch / (bl - pre) * 100
    for (i in 1:3) {
      add(scale = sc, rat = r, paw = p, time = tt[i], endpoint = "change", value = ch[[i]])
      add(scale = sc, rat = r, paw = p, time = tt[i], endpoint = "mpe", value = mpe[[i]])
      add(scale = sc, rat = r, paw = p, time = tt[i], endpoint = "reversal", value = rev[[i]])
    }
    add(scale = sc, rat = r, paw = p, time = NA, endpoint = "auc", value = trap(c(0, tt), c(pre, post)))
    add(scale = sc, rat = r, paw = p, time = NA, endpoint = "auc_change", value = trap(c(0, tt), c(0, ch)))
    add(scale = sc, rat = r, paw = p, time = NA, endpoint = "auc_mpe", value = trap(c(0, tt), c(0, mpe)))
    add(scale = sc, rat = r, paw = p, time = NA, endpoint = "auc_postonly", value = trap(tt, post))
    add(scale = sc, rat = r, paw = p, time = NA, endpoint = "auc_change_postonly", value = trap(tt, ch))
  }
  for (r in unique(d$rat)) for (tm in c("BL", "pre", "0.5", "1", "2")) {
    i <- d$rat == r & d$time == tm
    add(scale = sc, rat = r, paw = "ipsi-contra", time = tm, endpoint = "value",
        value = tf(d$threshold_g[i & d$paw == "ipsi"]) - tf(d$threshold_g[i & d$paw == "contra"]))
  }
}
write.csv(do.call(rbind, out), "endpoints_values.csv", row.names = FALSE)
