/*
 * promise/promise.h - libpromise, the national precision-omics database.
 *
 * One engine in which the individual is the spine: genotypes, omics
 * values and registry events all resolve to pseudonymised individuals, so
 * that any data type can filter any other. Include this umbrella header,
 * or the module headers it pulls in.
 */
#ifndef PROMISE_PROMISE_H
#define PROMISE_PROMISE_H

#include "promise/bitset.h"
#include "promise/error.h"
#include "promise/store.h"

#define PM_VERSION "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

/* Version string of the library ("0.1.0"). */
const char *pm_version(void);

#ifdef __cplusplus
}
#endif
#endif
