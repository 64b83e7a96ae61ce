# Writes the geNorm (Vandesompele et al. 2002) and NormFinder (Andersen et al. 2004) data sets
# shipped by the Bioconductor package NormqPCR as tidy CSV (sample, group, gene, quantity),
# the input of tests/qpcr/test_published.py. The CSVs are NOT committed to nplab: put them in
# <shared>/data/qpcr/ (the test corpus, see tests/conftest.py).
#   Rscript extract_normqpcr_data.R OUTDIR            (with NormqPCR installed:
#                                                      BiocManager::install("NormqPCR"))
#   Rscript extract_normqpcr_data.R OUTDIR RDATA_DIR  (from NormqPCR's data/*.RData files)
# Quantities are relative (linear scale); NormqPCR uses them with log = FALSE (log2 taken).
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "."
src_dir <- if (length(args) >= 2) args[2] else NA
load_set <- function(name, object) {
  e <- new.env()
  if (is.na(src_dir)) {
    suppressPackageStartupMessages(library(NormqPCR))
    data(list = name, package = "NormqPCR", envir = e)
  } else {
    load(file.path(src_dir, paste0(name, ".RData")), envir = e)
  }
  obj <- get(object, envir = e)
  list(x = get("exprs", envir = attr(obj, "assayData")),     # genes x samples
       p = attr(attr(obj, "phenoData"), "data"))
}
write_tidy <- function(x, grp, file) {
  d <- data.frame(sample = rep(colnames(x), each = nrow(x)), group = rep(grp, each = nrow(x)),
                  gene = rep(rownames(x), ncol(x)), quantity = as.vector(x))
  write.csv(d, file.path(out_dir, file), row.names = FALSE)
}
g <- load_set("geNorm", "geNorm.qPCRBatch")   # 10 genes x 85 samples: BM, FIB, LEU, NB, POOL
write_tidy(g$x, sub("[0-9]+$|\\..*$", "", colnames(g$x)), "vandesompele2002_genorm.csv")
co <- load_set("Colon", "Colon")              # 13 genes x 40 samples, 4 classes
write_tidy(co$x, co$p$Classification, "andersen2004_colon.csv")
bl <- load_set("Bladder", "Bladder")          # 14 genes x 28 samples, 3 grades
write_tidy(bl$x, bl$p$Grade, "andersen2004_bladder.csv")
