/*
 * om_int.h - internals of the omics module: the data file format.
 *
 * A batch file STORE/omics/bNNNNNN.pmo holds n_features blocks of
 * n_samples values, feature-major, so that one feature for every sample
 * of the batch is one contiguous read:
 *
 *   header (64 bytes): "PMOMX001", u32 version (1), u32 n_samples,
 *       u32 n_features, u32 block_bytes, i64 batch id, zeros, u32 CRC32 of
 *       bytes 0..59 at offset 60
 *   block i at 64 + i * block_bytes: u32 i, float32[n_samples] (NaN when
 *       missing), u8 flags[n_samples], zero padding to a multiple of 4,
 *       u32 CRC32 of everything before it in the block
 *
 * All integers and floats little-endian. Which feature a block holds and
 * which sample a column is, is the catalog's business (cat_omics.h); the
 * file only proves its own integrity: a bad header, a block whose index or
 * checksum is wrong, or a short file fail with PM_ECORRUPT.
 */
#ifndef PM_OMICS_OM_INT_H
#define PM_OMICS_OM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "promise/error.h"

#define PM_OM_MAGIC "PMOMX001"
#define PM_OM_VERSION 1
#define PM_OM_HEADER 64

/* Bytes of one block for n samples. */
uint64_t pm_om_block_bytes(uint32_t n_samples);

typedef struct pm_om_writer pm_om_writer_t;

/* Starts writing path (crash-safe: nothing appears until commit). */
int pm_om_writer_open(pm_ctx_t *ctx, const char *path, int64_t batch, uint32_t n_samples,
                      uint32_t n_features, pm_om_writer_t **out);
/* Appends the next block: n_samples values and flags. */
int pm_om_writer_block(pm_om_writer_t *w, const float *val, const uint8_t *flags);
/* fsync + rename; frees w. Fails unless every block was written. */
int pm_om_writer_commit(pm_om_writer_t *w, uint64_t *bytes);
/* Removes the temporary file; NULL is a no-op. */
void pm_om_writer_abort(pm_om_writer_t *w);

/* Reads block `block` of the file at path, which must hold n_samples x
 * n_features, into val and flags (n_samples entries each). */
int pm_om_read_block(pm_ctx_t *ctx, const char *path, uint32_t n_samples, uint32_t n_features,
                     uint32_t block, float *val, uint8_t *flags);

/* Days since 1970-01-01 of YYYYMMDD. */
int64_t pm_om_days(int32_t ymd);

#endif
