# A GENIUS-type design with a direct effect of z on y and unmeasured confounding u;
# the true ATE is 1.
sim_iv <- function(n, seed, one_sided = FALSE) {
  set.seed(seed)
  l <- runif(n, -1, 1)
  z <- rbinom(n, 1, plogis(0.2 + 0.5 * l))
  u <- if (one_sided) rep(0, n) else runif(n, -0.07, 0.07)
  p <- ifelse(z == 1, plogis(0.3 * l), if (one_sided) 0 else plogis(-2.2 + 0.3 * l))
  a <- rbinom(n, 1, p + u)
  y <- (1 + 0.5 * l) * a + 0.5 + 0.3 * l + 0.4 * z + 0.2 * z * l + 20 * u + rnorm(n)
  data.frame(y = y, a = a, z = z, l = l)
}
