// Precompiled header for the library, CLI and tests (never included by a public header).
#pragma once
#include <torch/torch.h>
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>
