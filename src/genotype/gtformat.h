/*
 * gtformat.h - constants of the genotype segment file layout shared by
 * the writer (gtwrite.c) and the reader (gtread.c). The layout is
 * described byte by byte in docs/internals/genotype.md.
 */
#ifndef PM_GENOTYPE_GTFORMAT_H
#define PM_GENOTYPE_GTFORMAT_H

#include <stdint.h>

#define GT_MAGIC "PMGTSEG\x01"     /* 8 bytes at offset 0 */
#define GT_TRAILER_MAGIC "PMGTEND\x01" /* last 8 bytes of the file */
#define GT_BLOCK_MAGIC 0x4b4c4247u /* "GBLK" little-endian */
#define GT_VERSION 1u

#define GT_HEADER_FIXED 24    /* magic, version, n_samples, chrom_len, reserved */
#define GT_BLOCK_HEADER 16    /* magic, payload_len, crc, n_records */
#define GT_PAYLOAD_HEADER 24  /* n_records, n_variants, first_pos, site_len, reserved */
#define GT_INDEX_ENTRY 48
#define GT_TRAILER 32

#define GT_MAX_PLOIDY 64
#define GT_MAX_ALT 4096
#define GT_MAX_STRING (1u << 26)  /* REF/ALT/ID bytes */
#define GT_MAX_CHROM 4096
#define GT_MAX_PAYLOAD (1u << 30) /* one block */

/* Writer's block limits (the reader accepts any size up to GT_MAX_PAYLOAD). */
#define GT_BLOCK_RECORDS 1024
#define GT_BLOCK_BYTES (8u << 20)

/* LD coding: a split may be stored as the XOR of its het and hom sets
 * with those of one of the GT_LD_WINDOW previous splits of the block. The
 * reader keeps materialised splits in a ring of GT_RING > GT_LD_WINDOW. */
#define GT_LD_WINDOW 32
#define GT_RING 64
/* Splits whose plain sets take fewer bytes than this are never LD coded
 * (rare variants: plain lists are small and count fastest). */
#define GT_LD_MIN_BYTES 48

/* Record flags byte. */
#define GT_F_PHASED 0x01        /* regular diploid calls are phased */
#define GT_F_H_SHIFT 1          /* 2 bits: haploid-form sample set kind */
#define GT_H_NONE 0
#define GT_H_EXPLICIT 1
#define GT_H_REF 2              /* same set as an earlier record of the block */
#define GT_H_ALL 3              /* ploidy 1: every regular sample is haploid */
#define GT_F_EXC 0x08           /* record has exceptions */

/* Second-entry codes of haploid-form samples (hform byte). */
#define GT_HFORM_END 0   /* "1"   -> [a, vector_end] */
#define GT_HFORM_MISS 1  /* "1/." -> [a, 0] */
#define GT_HFORM_MISSP 2 /* "1|." -> [a, 1] */

#endif
