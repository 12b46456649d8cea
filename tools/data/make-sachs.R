# Makes data/sachs.csv.gz and data/sachs_consensus.csv from the `Sachs` data of the gss
# package (Debian's r-cran-gss). Run from the repository root: Rscript tools/data/make-sachs.R
data("Sachs", package = "gss")
stopifnot(nrow(Sachs) == 7466)
map <- c(praf = "Raf", pmek = "Mek", plcg = "Plcg", pip2 = "PIP2", pip3 = "PIP3",
         p44.42 = "Erk", pakts473 = "Akt", pka = "PKA", pkc = "PKC", p38 = "P38", pjnk = "Jnk")
out <- Sachs[, names(map)]
names(out) <- unname(map)
out$condition <- as.integer(as.character(Sachs$grp))
# Check value from the method note: 10^x of the first observational cell.
first <- round(10^unlist(out[out$condition == 1, ][1, 1:11]), 2)
stopifnot(isTRUE(all.equal(unname(first), c(26.4, 13.2, 8.82, 18.3, 58.8, 6.61, 17, 414, 17, 44.9, 40),
                           tolerance = 0.01)))
con <- gzfile("data/sachs.csv.gz", "w")
utils::write.csv(out, con, row.names = FALSE)
close(con)
consensus <- data.frame(
  from = c("PKC", "PKC", "PKA", "PKC", "PKA", "Raf", "Mek", "PKA", "Erk", "PKA", "PKC", "PKA",
           "PKC", "PKA", "Plcg", "Plcg", "PIP3"),
  to = c("PKA", "Raf", "Raf", "Mek", "Mek", "Mek", "Erk", "Erk", "Akt", "Akt", "P38", "P38",
         "Jnk", "Jnk", "PIP3", "PIP2", "PIP2"))
utils::write.csv(consensus, "data/sachs_consensus.csv", row.names = FALSE)
cat("wrote data/sachs.csv.gz (", nrow(out), "rows) and data/sachs_consensus.csv (", nrow(consensus), "edges)\n")
