# Reference results from R's metafor for tests/test_meta_metafor.py.
# Usage: Rscript metafor_reference.R OUT.json
# Every dataset comes from the metadat package that metafor ships with, so nothing here is
# committed data: R writes each dataset's raw numbers and metafor's results; the test computes
# the same figures with evidence_cli.synthesis from those raw numbers and compares them.
# tau^2 is solved to full precision (threshold/tol 1e-12) rather than metafor's default
# stopping rules (change < 1e-5, uniroot tol ~1e-4), so both sides report the exact estimator;
# confint() searches up to tau^2 = 1e6 rather than max(100, 10 tau^2), beyond which metafor
# prints the bound as "> limit" (dat.normand1999 MD under DL: "> 2054.09"; the bound is 2889.45).
suppressMessages(library(metafor))
suppressMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
ctrl <- list(threshold = 1e-12, tol = 1e-12, maxiter = 10000)

fits <- function(yi, vi) {
  out <- list()
  for (method in c("FE", "DL", "PM", "ML", "REML")) {
    for (test in c("z", "knha")) {
      res <- suppressWarnings(rma(yi, vi, method = method, test = test, control = ctrl))
      pr <- predict(res)
      entry <- list(method = method, hksj = (test == "knha"), b = c(res$beta), se = res$se,
                    zval = res$zval, pval = res$pval, ci_lb = res$ci.lb, ci_ub = res$ci.ub,
                    tau2 = res$tau2, I2 = res$I2, H2 = res$H2, QE = res$QE, QEp = res$QEp,
                    pi_lb = if (is.null(pr$pi.lb)) pr$ci.lb else pr$pi.lb,
                    pi_ub = if (is.null(pr$pi.ub)) pr$ci.ub else pr$pi.ub,
                    weights = unname(weights(res)))
      if (method != "FE") {
        ci <- confint(res, control = list(tol = 1e-12, maxiter = 10000, tau2.max = 1e6))
        entry$tau2_lb <- ci$random["tau^2", "ci.lb"]
        entry$tau2_ub <- ci$random["tau^2", "ci.ub"]
      }
      eg <- suppressWarnings(regtest(res, control = ctrl))
      entry$egger <- list(zval = eg$zval, pval = eg$pval, est = eg$est, ci_lb = eg$ci.lb,
                          ci_ub = eg$ci.ub)
      l1 <- suppressWarnings(leave1out(res))
      entry$l1o <- list(estimate = l1$estimate, se = l1$se, ci_lb = l1$ci.lb, ci_ub = l1$ci.ub,
                        pval = l1$pval, tau2 = l1$tau2, I2 = l1$I2, Q = l1$Q)
      out[[length(out) + 1]] <- entry
    }
  }
  out
}

case <- function(name, kind, measure, data, es) {
  list(name = name, kind = kind, measure = measure, data = data,
       yi = c(es$yi), vi = c(es$vi), fits = fits(c(es$yi), c(es$vi)))
}

cases <- list()
b <- dat.bcg
for (m in c("RR", "OR", "RD")) {
  es <- escalc(measure = m, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = b)
  cases[[length(cases) + 1]] <- case(paste0("dat.bcg ", m), "binary", m,
    list(ai = b$tpos, n1 = b$tpos + b$tneg, ci = b$cpos, n2 = b$cpos + b$cneg), es)
}
cz <- dat.colditz1994
es <- escalc(measure = "OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = cz)
cases[[length(cases) + 1]] <- case("dat.colditz1994 OR", "binary", "OR",
  list(ai = cz$tpos, n1 = cz$tpos + cz$tneg, ci = cz$cpos, n2 = cz$cpos + cz$cneg), es)
# Zero cells, including a trial with no events in either arm (Yucel 2004).
nw <- dat.nielweise2007
for (m in c("RR", "OR")) {
  es <- escalc(measure = m, ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = nw)
  cases[[length(cases) + 1]] <- case(paste0("dat.nielweise2007 ", m), "binary", m,
    list(ai = nw$ai, n1 = nw$n1i, ci = nw$ci, n2 = nw$n2i), es)
}
nd <- dat.normand1999
for (m in c("SMD", "MD")) {
  es <- escalc(measure = m, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
               n2i = n2i, data = nd)
  cases[[length(cases) + 1]] <- case(paste0("dat.normand1999 ", m), "continuous", m,
    list(m1 = nd$m1i, sd1 = nd$sd1i, n1 = nd$n1i, m2 = nd$m2i, sd2 = nd$sd2i, n2 = nd$n2i), es)
}
ml <- dat.molloy2014
es <- escalc(measure = "ZCOR", ri = ri, ni = ni, data = ml)
cases[[length(cases) + 1]] <- case("dat.molloy2014 ZCOR", "correlation", "ZCOR",
  list(r = ml$ri, n = ml$ni), es)
# Reported odds ratios with 95% CIs: log OR and its variance from the interval (Wald).
hk <- dat.hackshaw1998
yi <- log(hk$or)
vi <- ((log(hk$or.ub) - log(hk$or.lb)) / (2 * qnorm(0.975)))^2
cases[[length(cases) + 1]] <- case("dat.hackshaw1998 OR (reported CIs)", "effect", "OR",
  list(value = hk$or, low = hk$or.lb, high = hk$or.ub), list(yi = yi, vi = vi))

write_json(list(metafor = as.character(packageVersion("metafor")), cases = cases), args[1],
           digits = NA, auto_unbox = TRUE, pretty = FALSE)
