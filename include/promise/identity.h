/*
 * promise/identity.h - Swedish personal identity numbers and keyed
 * pseudonyms.
 *
 * The personnummer never enters a store. At ingest (or beforehand, at the
 * key holder's) it is validated and turned into a pseudonym:
 * HMAC-SHA-256 under a 32-byte key kept outside the store. A store records
 * only the key's fingerprint, and every pseudonym carries a short tag of
 * that fingerprint, so that data keyed under another key is refused.
 *
 * Nothing in this module puts a personnummer into an error message: the
 * caller reports the file, line and column instead.
 */
#ifndef PROMISE_IDENTITY_H
#define PROMISE_IDENTITY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "promise/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A parsed, valid personnummer or samordningsnummer (value type). */
typedef struct pm_pnr {
    char canon[13];       /* canonical 12 digits YYYYMMDDNNNC, NUL-terminated */
    int year, month, day; /* birth date (day without the +60 of a samordningsnummer) */
    char sex;             /* 'M' (odd birth number) or 'F' (even) */
    int coordination;     /* 1 for a samordningsnummer (day + 60) */
} pm_pnr_t;

/* Why a number was refused: for messages, never containing the number. */
enum pm_pnr_error {
    PM_PNR_OK = 0,
    PM_PNR_EMPTY = -1,       /* empty input */
    PM_PNR_LENGTH = -2,      /* not 10 or 12 digits (plus optional separator) */
    PM_PNR_CHARS = -3,       /* a character that is not an ASCII digit / separator */
    PM_PNR_SEPARATOR = -4,   /* misplaced separator, or '+' with a 12-digit form that contradicts it */
    PM_PNR_DATE = -5,        /* no such calendar date */
    PM_PNR_BIRTHNUM = -6,    /* birth number 000 */
    PM_PNR_CHECKDIGIT = -7,  /* Luhn check digit wrong */
    PM_PNR_RESERVE = -8,     /* a reserve number with letters: recognised and refused */
    PM_PNR_FUTURE = -9,      /* born after the reference date */
};

/*
 * Parses s in any accepted spelling: YYMMDD-NNNC, YYMMDD+NNNC, YYMMDDNNNC,
 * YYYYMMDD-NNNC, YYYYMMDD+NNNC, YYYYMMDDNNNC (ASCII digits only; no
 * spaces). For 10-digit forms the century is the one that puts the birth
 * year 0..99 years before ref_date's year ('-' or no separator) or at
 * least 100 years before it ('+': used from the calendar year a person
 * turns 100). A 12-digit form carries its century; with '+' it is
 * accepted only if the person turns 100 in ref_date's year or earlier.
 * A birth date after ref_date is refused (PM_PNR_FUTURE); so is a birth
 * year before 1800. ref_date is YYYYMMDD as an integer (e.g. 20261128);
 * 0 means today (local time). Returns PM_PNR_OK and fills *out (which may
 * be NULL to validate only), or a negative pm_pnr_error and zeroes *out.
 * Thread-safe; s is never stored or copied anywhere but out->canon.
 */
int pm_pnr_parse(const char *s, int ref_date, pm_pnr_t *out);
/* Short English reason for a pm_pnr_error ("wrong check digit"); static
 * string, never contains the number. */
const char *pm_pnr_strerror(int err);
/* Today's date (local time) as YYYYMMDD, the default ref_date. */
int pm_pnr_today(void);

/* ---- keys and pseudonyms ---- */

#define PM_KEY_BYTES 32
#define PM_FINGERPRINT_HEX 64 /* hex chars in a key fingerprint */
#define PM_KEY_TAG_LEN 6      /* chars of the fingerprint tag in a pseudonym */
#define PM_PSEUDONYM_MAX 48   /* buffer size that holds any pseudonym + NUL */

typedef struct pm_key pm_key_t;

/* Writes a new key (32 random bytes from libsodium) to path with mode
 * 0600, as the one line "promise-key v1 <64 lowercase hex digits>\n".
 * Refuses (PM_EEXIST) to overwrite an existing file. Crash-safe: there is
 * afterwards either no file at path or a complete, fsync'd key. */
int pm_key_generate(pm_ctx_t *ctx, const char *path);
/* Loads a key file; free with pm_key_free(). Refuses a key file with any
 * permission bit for group or others (PM_EACCES), a missing file
 * (PM_ENOTFOUND) and anything not in the key file format (PM_EINPUT). */
int pm_key_load(pm_ctx_t *ctx, const char *path, pm_key_t **out);
/* Wipes and frees; NULL is a no-op. */
void pm_key_free(pm_key_t *key);
/* Hex fingerprint of the key (a keyed hash of a fixed label: reveals
 * nothing about the key). buf must hold PM_FINGERPRINT_HEX + 1 bytes. */
void pm_key_fingerprint(const pm_key_t *key, char *buf);
/* The short tag that every pseudonym under this key starts with.
 * buf must hold PM_KEY_TAG_LEN + 1 bytes. */
void pm_key_tag(const pm_key_t *key, char *buf);

/* The pseudonym of a parsed number: "<tag>-<26 base32 chars>" (128 bits
 * of HMAC-SHA-256 over the canonical 12 digits). buf must hold
 * PM_PSEUDONYM_MAX bytes. */
void pm_pseudonym(const pm_key_t *key, const pm_pnr_t *pnr, char *buf);
/* Checks that s is well-formed as a pseudonym; on success copies its key
 * tag into tag (PM_KEY_TAG_LEN + 1 bytes) and returns 0, else PM_EINPUT. */
int pm_pseudonym_parse(const char *s, char *tag);

/* HMAC-SHA-256 of msg under key (any key length), for tests and tools.
 * Thread-safe. */
void pm_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t msglen,
                    uint8_t out[32]);

/* Replaces the 'personnummer' column of the table at in_path ("-" =
 * stdin; plain or gzip) with a 'pseudonym' column in the same position
 * and writes the table to out (tab-separated, '\n' line ends). The whole
 * input is validated before anything is written (output is staged in an
 * unlinked temporary file), so an invalid number fails with PM_EINPUT and
 * "FILE:LINE:COL: invalid personnummer: <reason> (column 'personnummer')"
 * and writes nothing. 10-digit numbers are read relative to today. An
 * input that already has a 'pseudonym' column, or lacks 'personnummer',
 * is refused (PM_EINPUT). */
int pm_pseudonymize_table(pm_ctx_t *ctx, const pm_key_t *key, const char *in_path, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
