// The generator moved to adaswarm/util/random.h (data, swarm and experiments all
// use it); this header keeps old includes working.
#pragma once
#include "adaswarm/util/random.h"
