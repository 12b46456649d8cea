#pragma once
// The aggregate module: learning from aggregate responses (Javanmard et al., ICLR 2024).
// bags.hpp (bag structures, aggregates), linear.hpp (sufficient statistics, rho path,
// linear fits, the module's definitions and decisions), risk.hpp (asymptotic risk, oracle
// rho, optimal bag size under DP), dp.hpp (label-DP release), glm.hpp (canonical GLMs).
// The one dependency on another estimator module is deliberate (the issue asks for it):
// dp.cpp draws its noise from the privacy module's secure Laplace mechanism and generator.
#include "tessera/aggregate/bags.hpp"
#include "tessera/aggregate/dp.hpp"
#include "tessera/aggregate/glm.hpp"
#include "tessera/aggregate/linear.hpp"
#include "tessera/aggregate/risk.hpp"
#include "tessera/optim/newton.hpp"
