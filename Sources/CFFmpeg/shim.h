#ifndef LRJ_CFFMPEG_SHIM_H
#define LRJ_CFFMPEG_SHIM_H

#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

// Function-like and casting macros Swift cannot import, re-exported as functions.
static inline int lrj_averror(int e) { return AVERROR(e); }
static inline int lrj_averror_eof(void) { return AVERROR_EOF; }
static inline int lrj_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
static inline int64_t lrj_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int lrj_time_base(void) { return AV_TIME_BASE; }
static inline int lrj_frame_is_corrupt(const AVFrame *f) { return (f->flags & AV_FRAME_FLAG_CORRUPT) != 0; }
static inline int lrj_packet_is_corrupt(const AVPacket *p) { return (p->flags & AV_PKT_FLAG_CORRUPT) != 0; }

#endif
