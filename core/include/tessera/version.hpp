#pragma once
// tessera's version: the single source of truth (CMake and the R DESCRIPTION read it).
#define TESSERA_VERSION_MAJOR 0
#define TESSERA_VERSION_MINOR 1
#define TESSERA_VERSION_PATCH 0

namespace tessera {
inline constexpr const char* version_string = "0.1.0";
}
