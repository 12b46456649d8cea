#pragma once
// The one place the core includes Armadillo. The R build defines the same
// configuration macros for every translation unit (see rpkg/src/Makevars.in), so the
// core and the R glue agree on Armadillo's layout.
#include <armadillo>
