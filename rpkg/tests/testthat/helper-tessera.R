# A short schedule for tests: the defaults take ~1e5 Adam steps.
quick_control <- function() dag_control(stages = 3, s = c(1, 0.9, 0.8), warm_iter = 3000, max_iter = 6000)
