#' Sachs flow-cytometry data
#'
#' Single-cell measurements of 11 phosphorylated proteins and phospholipids of human
#' immune cells (Sachs et al. 2005, Science 308:523-529), on the log10 scale, 7,466
#' cells in 9 experimental conditions. Condition 1 is the 853 observational cells
#' stimulated by anti-CD3/CD28 that DAG-learning papers (CoLiDE among them) use.
#'
#' @format A data frame with 7,466 rows and 12 columns: `Raf`, `Mek`, `Plcg`, `PIP2`,
#'   `PIP3`, `Erk` (p44/42), `Akt` (pakts473), `PKA`, `PKC`, `P38`, `Jnk` (log10
#'   intensities) and `condition` (1 to 9).
#' @source The `Sachs` data of the gss package (Debian's r-cran-gss), columns renamed;
#'   see `data/README.md` in the source repository for how the file was made.
#' @examples
#' obs <- subset(sachs, condition == 1, select = -condition)
#' dim(obs)
#' @name sachs
#' @docType data
#' @keywords datasets
NULL

#' The Sachs consensus signalling network
#'
#' The 17-edge consensus graph used as ground truth for [sachs] (the standard one, as
#' in bnlearn's model string for the Sachs network).
#'
#' @format A data frame of 17 directed edges with columns `from` and `to`.
#' @source Sachs et al. (2005), Science 308:523-529, as used throughout the DAG
#'   learning literature; see `data/README.md`.
#' @examples
#' sachs_consensus
#' @name sachs_consensus
#' @docType data
#' @keywords datasets
NULL
