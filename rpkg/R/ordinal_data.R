#' Soup discrimination data
#'
#' The `soup` data of the ordinal package (version 2022.11-16): 1847 ratings by 185
#' respondents of how sure they were that a soup sample was a reference or a test soup,
#' with respondent and product covariates. The PRESTO paper (Faletto and Bien, ICML 2023)
#' reverses `SURENESS` so that level 1 (12.3%) becomes the last, rare class and uses 22
#' dummy columns of `PROD`, `DAY`, `SOUPTYPE`, `SOUPFREQ`, `COLD`, `EASY`, `GENDER`,
#' `AGEGROUP` and `LOCATION`.
#'
#' @format A data frame with 1847 rows and 12 columns (read from CSV, so the factors of
#'   the original are stored as character or integer columns): `RESP` (respondent),
#'   `PROD` ("Ref"/"Test"), `PRODID` (1-6), `SURENESS` (1-6, 1 = sure it is a reference
#'   soup), `DAY`, `SOUPTYPE`, `SOUPFREQ`, `COLD`, `EASY` (1-10), `GENDER`, `AGEGROUP`,
#'   `LOCATION`.
#' @source R package ordinal 2022.11-16 (Christensen; GPL >= 2), as shipped by Debian's
#'   r-cran-ordinal; see `data/README.md` in the source repository.
#' @examples
#' table(soup$SURENESS)
#' @name soup
#' @docType data
#' @keywords datasets
NULL
