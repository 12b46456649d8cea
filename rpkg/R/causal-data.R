#' The 401(k) data: pension plan eligibility, participation and wealth
#'
#' 9,915 households from the 1991 Survey of Income and Program Participation (SIPP),
#' the sample of Chernozhukov and Hansen (2004), as shipped by the hdm package.
#' Eligibility `e401` is the classic instrument for participation `p401`; since only
#' eligible employees can participate, noncompliance is one-sided
#' (`P(p401 = 1 | e401 = 0) = 0`), which [iv_ate()] detects and explains.
#'
#' @format A data frame with 9,915 rows and 12 columns: `net_tfa` (net financial
#'   assets, US$), `p401` (participation, 0/1), `e401` (eligibility, 0/1), `age`, `inc`
#'   (income, US$), `educ` (years of education), `fsize` (family size), `marr`
#'   (married), `twoearn` (two earners), `db` (defined-benefit pension), `pira` (IRA
#'   participation), `hown` (home owner).
#' @source The `pension` data of the CRAN package hdm 0.3.2 (MIT licence), columns
#'   subset; see `data/README.md` in the source repository. Chernozhukov, V. and
#'   Hansen, C. (2004), The impact of 401(k) participation on the wealth distribution:
#'   an instrumental quantile regression analysis, Review of Economics and Statistics
#'   86(3), 735-751.
#' @examples
#' with(pension, table(e401, p401))
#' @name pension
#' @docType data
#' @keywords datasets
NULL
