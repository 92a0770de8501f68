#ifndef LRJ_FFMPEG_LOG_H
#define LRJ_FFMPEG_LOG_H

/// Routes FFmpeg's log output away from stderr and keeps, per thread, the last message of level
/// error or worse, so that Swift can name the cause of a failure ("moov atom not found").
void lrj_ffmpeg_log_install(void);

/// Copies the calling thread's last captured error message into buf (NUL-terminated, at most
/// size bytes) and clears it. Returns the message length, 0 when there is none.
int lrj_ffmpeg_log_take_last(char *buf, int size);

#endif
