#include "lrj_ffmpeg_log.h"

#include <libavutil/log.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_message[512];

static void capture(void *avcl, int level, const char *fmt, va_list args) {
  (void)avcl;
  if (level > AV_LOG_ERROR) return;
  char line[512];
  int n = vsnprintf(line, sizeof line, fmt, args);
  if (n <= 0) return;
  // Keep one line: drop the trailing newline FFmpeg messages carry.
  size_t len = strnlen(line, sizeof line);
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
  if (len == 0) return;
  memcpy(last_message, line, len + 1);
}

void lrj_ffmpeg_log_install(void) {
  av_log_set_level(AV_LOG_ERROR);
  av_log_set_callback(capture);
}

int lrj_ffmpeg_log_take_last(char *buf, int size) {
  if (size <= 0) return 0;
  size_t len = strnlen(last_message, sizeof last_message);
  if ((int)len >= size) len = (size_t)size - 1;
  memcpy(buf, last_message, len);
  buf[len] = '\0';
  last_message[0] = '\0';
  return (int)len;
}
