/*
 * access_int.h - helpers shared by the files of src/access. Internal.
 * src/access is, with src/identity, a libsodium user: SHA-256 for token
 * hashes and the audit chain, the system CSPRNG for tokens and project
 * keys.
 */
#ifndef PM_ACCESS_ACCESS_INT_H
#define PM_ACCESS_ACCESS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "promise/store.h"

/* Lowercase hex SHA-256 of data into hex[65]. */
void pm_access_sha256_hex(const void *data, size_t len, char *hex);
/* Today (UTC) as YYYYMMDD. */
int pm_access_today(void);

/* The 32-byte key of project (caller wipes it). */
int pm_access_project_key(pm_store_t *st, const char *project, uint8_t key[32]);
/* The project pseudonym of a store pseudonym under key (see
 * pm_access_project_pseudonym); PM_ELIMIT when buf is too small. */
int pm_access_pseudonym_with(const uint8_t key[32], const char *project, const char *pseudonym,
                             char *buf, size_t cap);

#endif
