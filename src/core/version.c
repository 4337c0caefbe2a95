/* version.c - library version. */
#include "promise/promise.h"

const char *pm_version(void) { return PM_VERSION; }
