// OpenVINO's C API, bound at run time (dlopen/dlsym): the declarations below are the few entry
// points lrj calls, with the types they take, written from the C API's documentation. Nothing of
// OpenVINO is linked or compiled in.

#include "lrj_openvino.h"

#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <malloc.h>  // malloc, calloc, free (glibc)
#include <string.h>

// From the C library (its usual header is not included here, as for malloc above).
extern char *getenv(const char *name);

// ---- The C API's types, as far as lrj uses them.
typedef int ov_status;  // 0 is success
typedef struct {
  const char *build_number;
  const char *description;
} ov_version;
typedef struct {
  int64_t rank;
  int64_t *dims;
} ov_shape;
typedef struct {
  int64_t min;
  int64_t max;
} ov_dimension;
typedef struct {
  ov_dimension rank;
  ov_dimension *dims;
} ov_partial_shape;
enum { OV_F32 = 4 };  // ov_element_type_e: DYNAMIC, BOOLEAN, BF16, F16, F32, …

typedef struct {
  ov_status (*get_openvino_version)(ov_version *);
  void (*version_free)(ov_version *);
  const char *(*get_error_info)(ov_status);
  const char *(*get_last_err_msg)(void);
  ov_status (*core_create)(void **);
  void (*core_free)(void *);
  ov_status (*read_model)(const void *core, const char *bytes, size_t size, const void *weights, void **model);
  void (*model_free)(void *);
  ov_status (*partial_shape_create_static)(int64_t rank, const int64_t *dims, ov_partial_shape *);
  void (*partial_shape_free)(ov_partial_shape *);
  ov_status (*model_reshape_single_input)(const void *model, ov_partial_shape shape);
  ov_status (*compile_model)(const void *core, const void *model, const char *device, size_t property_count,
                             void **compiled, ...);
  void (*compiled_model_free)(void *);
  ov_status (*create_infer_request)(const void *compiled, void **request);
  void (*infer_request_free)(void *);
  ov_status (*shape_create)(int64_t rank, const int64_t *dims, ov_shape *);
  ov_status (*shape_free)(ov_shape *);
  ov_status (*tensor_create_from_host_ptr)(int type, ov_shape shape, void *host, void **tensor);
  void (*tensor_free)(void *);
  ov_status (*tensor_get_size)(const void *tensor, size_t *elements);
  ov_status (*tensor_data)(const void *tensor, void **data);
  ov_status (*set_input_tensor)(void *request, const void *tensor);
  ov_status (*infer)(void *request);
  ov_status (*get_output_tensor)(const void *request, void **tensor);
  const char **inference_num_threads;  // the property key, a variable of the library
  ov_status (*core_get_property)(const void *core, const char *device, const char *key, char **value);
  void (*free_text)(const char *);
} ov_api;

static ov_api api;
static int loaded = 0;
static char load_error[512];
static char version_text[128];
static char precision_text[32];
// Set by LRJ_OPENVINO_PRECISION=f32: every network is compiled to infer in 32-bit floats.
static int force_f32 = 0;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char pending_folder[4096];

static void set_error(char *error, size_t size, const char *message) {
  if (error == NULL || size == 0) return;
  snprintf(error, size, "%s", message);
}

#define BIND(field, name)                                                                  \
  do {                                                                                     \
    *(void **)(&api.field) = dlsym(library, name);                                         \
    if (api.field == NULL) {                                                               \
      snprintf(load_error, sizeof load_error, "%s has no %s: not a supported OpenVINO", path, name); \
      return;                                                                              \
    }                                                                                      \
  } while (0)

static void load_once(void) {
  char path[4200];
  // The wheel names the library libopenvino_c.so.<version>; a plain libopenvino_c.so is accepted too.
  void *library = NULL;
  snprintf(path, sizeof path, "%s/libopenvino_c.so", pending_folder);
  library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    // The wheel's file is libopenvino_c.so.<version digits>: the first such file in the folder.
    DIR *dir = opendir(pending_folder);
    struct dirent *entry;
    while (dir != NULL && library == NULL && (entry = readdir(dir)) != NULL) {
      if (strncmp(entry->d_name, "libopenvino_c.so.", 17) != 0) continue;
      snprintf(path, sizeof path, "%s/%s", pending_folder, entry->d_name);
      library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    }
    if (dir != NULL) closedir(dir);
  }
  if (library == NULL) {
    const char *reason = dlerror();
    snprintf(load_error, sizeof load_error, "no usable libopenvino_c.so in %s (%s)", pending_folder,
             reason ? reason : "not found");
    return;
  }
  BIND(get_openvino_version, "ov_get_openvino_version");
  BIND(version_free, "ov_version_free");
  BIND(get_error_info, "ov_get_error_info");
  BIND(get_last_err_msg, "ov_get_last_err_msg");
  BIND(core_create, "ov_core_create");
  BIND(core_free, "ov_core_free");
  BIND(read_model, "ov_core_read_model_from_memory_buffer");
  BIND(model_free, "ov_model_free");
  BIND(partial_shape_create_static, "ov_partial_shape_create_static");
  BIND(partial_shape_free, "ov_partial_shape_free");
  BIND(model_reshape_single_input, "ov_model_reshape_single_input");
  BIND(compile_model, "ov_core_compile_model");
  BIND(compiled_model_free, "ov_compiled_model_free");
  BIND(create_infer_request, "ov_compiled_model_create_infer_request");
  BIND(infer_request_free, "ov_infer_request_free");
  BIND(shape_create, "ov_shape_create");
  BIND(shape_free, "ov_shape_free");
  BIND(tensor_create_from_host_ptr, "ov_tensor_create_from_host_ptr");
  BIND(tensor_free, "ov_tensor_free");
  BIND(tensor_get_size, "ov_tensor_get_size");
  BIND(tensor_data, "ov_tensor_data");
  BIND(set_input_tensor, "ov_infer_request_set_input_tensor");
  BIND(infer, "ov_infer_request_infer");
  BIND(get_output_tensor, "ov_infer_request_get_output_tensor");
  BIND(inference_num_threads, "ov_property_key_inference_num_threads");
  BIND(core_get_property, "ov_core_get_property");
  BIND(free_text, "ov_free");
  ov_version version = {0};
  if (api.get_openvino_version(&version) != 0 || version.build_number == NULL) {
    snprintf(load_error, sizeof load_error, "%s does not report its version", path);
    return;
  }
  snprintf(version_text, sizeof version_text, "%s", version.build_number);
  api.version_free(&version);
  // The precision the CPU computes in by default (bf16 where the processor has it, else f32):
  // detections differ slightly between the two, so reports name it.
  void *core = NULL;
  if (api.core_create(&core) == 0) {
    char *value = NULL;
    if (api.core_get_property(core, "CPU", "INFERENCE_PRECISION_HINT", &value) == 0 && value != NULL) {
      snprintf(precision_text, sizeof precision_text, "%s", value);
      api.free_text(value);
    }
    api.core_free(core);
  }
  // f32 on request, where the processor would infer in bf16: an ingest made on a processor without
  // bf16 can be reproduced exactly on one that has it (every processor has f32).
  const char *forced = getenv("LRJ_OPENVINO_PRECISION");
  if (forced != NULL && forced[0] != 0) {
    if (strcmp(forced, "f32") != 0) {
      snprintf(load_error, sizeof load_error, "LRJ_OPENVINO_PRECISION is \"%.64s\": only f32 can be asked for", forced);
      return;
    }
    force_f32 = 1;
    snprintf(precision_text, sizeof precision_text, "f32");
  }
  loaded = 1;
}

int32_t lrj_openvino_load(const char *folder, char *error, size_t error_size) {
  if (folder == NULL) {
    set_error(error, error_size, "no folder");
    return 0;
  }
  // The first caller's folder is the one loaded.
  static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&mutex);
  if (pending_folder[0] == 0) snprintf(pending_folder, sizeof pending_folder, "%s", folder);
  pthread_mutex_unlock(&mutex);
  pthread_once(&once, load_once);
  if (!loaded) set_error(error, error_size, load_error);
  return loaded;
}

const char *lrj_openvino_version(void) { return loaded ? version_text : ""; }

const char *lrj_openvino_precision(void) { return loaded ? precision_text : ""; }

// ---- Networks.

enum { kShapes = 4 };

typedef struct {
  int32_t width, height;
  void *compiled;
  void *request;
} compiled_shape;

struct lrj_openvino_network {
  void *core;
  void *model;
  char *bytes;
  size_t size;
  int32_t threads;
  compiled_shape shapes[kShapes];
  int next;  // round-robin slot to replace when all are used
};

static void fail(char *error, size_t size, const char *what, ov_status status) {
  char message[512];
  const char *detail = api.get_last_err_msg ? api.get_last_err_msg() : NULL;
  const char *info = api.get_error_info ? api.get_error_info(status) : NULL;
  snprintf(message, sizeof message, "OpenVINO %s failed: %s", what,
           detail && detail[0] ? detail : (info ? info : "unknown error"));
  // Keep the message on one line.
  for (char *c = message; *c; ++c)
    if (*c == '\n' || *c == '\r') *c = ' ';
  set_error(error, size, message);
}

lrj_openvino_network *lrj_openvino_open(const void *model, size_t model_size, int32_t threads, char *error,
                                        size_t error_size) {
  if (!loaded) {
    set_error(error, error_size, "the OpenVINO runtime is not loaded");
    return NULL;
  }
  if (model == NULL || model_size == 0) {
    set_error(error, error_size, "the model is empty");
    return NULL;
  }
  lrj_openvino_network *n = calloc(1, sizeof *n);
  if (n == NULL) {
    set_error(error, error_size, "out of memory");
    return NULL;
  }
  n->threads = threads;
  n->bytes = malloc(model_size);
  if (n->bytes == NULL) {
    free(n);
    set_error(error, error_size, "out of memory");
    return NULL;
  }
  memcpy(n->bytes, model, model_size);
  n->size = model_size;
  ov_status status = api.core_create(&n->core);
  if (status != 0) {
    fail(error, error_size, "core creation", status);
    lrj_openvino_close(n);
    return NULL;
  }
  status = api.read_model(n->core, n->bytes, n->size, NULL, &n->model);
  if (status != 0) {
    fail(error, error_size, "reading the model", status);
    lrj_openvino_close(n);
    return NULL;
  }
  return n;
}

void lrj_openvino_close(lrj_openvino_network *n) {
  if (n == NULL) return;
  for (int i = 0; i < kShapes; ++i) {
    if (n->shapes[i].request) api.infer_request_free(n->shapes[i].request);
    if (n->shapes[i].compiled) api.compiled_model_free(n->shapes[i].compiled);
  }
  if (n->model) api.model_free(n->model);
  if (n->core) api.core_free(n->core);
  free(n->bytes);
  free(n);
}

static compiled_shape *shape_for(lrj_openvino_network *n, int32_t width, int32_t height, char *error,
                                 size_t error_size) {
  for (int i = 0; i < kShapes; ++i) {
    if (n->shapes[i].request && n->shapes[i].width == width && n->shapes[i].height == height) return &n->shapes[i];
  }
  compiled_shape *slot = NULL;
  for (int i = 0; i < kShapes && slot == NULL; ++i) {
    if (n->shapes[i].request == NULL) slot = &n->shapes[i];
  }
  if (slot == NULL) {
    slot = &n->shapes[n->next];
    n->next = (n->next + 1) % kShapes;
    api.infer_request_free(slot->request);
    api.compiled_model_free(slot->compiled);
    memset(slot, 0, sizeof *slot);
  }
  int64_t dims[4] = {1, 3, height, width};
  ov_partial_shape shape;
  ov_status status = api.partial_shape_create_static(4, dims, &shape);
  if (status != 0) {
    fail(error, error_size, "shape creation", status);
    return NULL;
  }
  status = api.model_reshape_single_input(n->model, shape);
  api.partial_shape_free(&shape);
  if (status != 0) {
    fail(error, error_size, "reshaping the model", status);
    return NULL;
  }
  char threads[16];
  snprintf(threads, sizeof threads, "%d", n->threads > 0 ? n->threads : 0);
  // One inference at a time, as soon as possible (the analysis waits for each).
  const char *precision_key = "INFERENCE_PRECISION_HINT";
  if (n->threads > 0 && force_f32) {
    status = api.compile_model(n->core, n->model, "CPU", 6, &slot->compiled, *api.inference_num_threads, threads,
                               "PERFORMANCE_HINT", "LATENCY", precision_key, "f32");
  } else if (n->threads > 0) {
    status = api.compile_model(n->core, n->model, "CPU", 4, &slot->compiled, *api.inference_num_threads, threads,
                               "PERFORMANCE_HINT", "LATENCY");
  } else if (force_f32) {
    status = api.compile_model(n->core, n->model, "CPU", 4, &slot->compiled, "PERFORMANCE_HINT", "LATENCY",
                               precision_key, "f32");
  } else {
    status = api.compile_model(n->core, n->model, "CPU", 2, &slot->compiled, "PERFORMANCE_HINT", "LATENCY");
  }
  if (status != 0) {
    fail(error, error_size, "compiling the model", status);
    slot->compiled = NULL;
    return NULL;
  }
  status = api.create_infer_request(slot->compiled, &slot->request);
  if (status != 0) {
    fail(error, error_size, "creating an inference request", status);
    api.compiled_model_free(slot->compiled);
    slot->compiled = NULL;
    slot->request = NULL;
    return NULL;
  }
  slot->width = width;
  slot->height = height;
  return slot;
}

int64_t lrj_openvino_forward(lrj_openvino_network *n, const float *input, int32_t width, int32_t height, float *out,
                             int64_t capacity, char *error, size_t error_size) {
  if (n == NULL || input == NULL || width <= 0 || height <= 0 || width % 32 || height % 32 ||
      (capacity > 0 && out == NULL)) {
    set_error(error, error_size, "invalid arguments");
    return -1;
  }
  compiled_shape *slot = shape_for(n, width, height, error, error_size);
  if (slot == NULL) return -1;
  int64_t dims[4] = {1, 3, height, width};
  ov_shape shape;
  ov_status status = api.shape_create(4, dims, &shape);
  if (status != 0) {
    fail(error, error_size, "shape creation", status);
    return -1;
  }
  void *tensor = NULL;
  status = api.tensor_create_from_host_ptr(OV_F32, shape, (void *)input, &tensor);
  api.shape_free(&shape);
  if (status != 0) {
    fail(error, error_size, "input tensor creation", status);
    return -1;
  }
  status = api.set_input_tensor(slot->request, tensor);
  if (status == 0) status = api.infer(slot->request);
  api.tensor_free(tensor);
  if (status != 0) {
    fail(error, error_size, "inference", status);
    return -1;
  }
  void *output = NULL;
  status = api.get_output_tensor(slot->request, &output);
  if (status != 0) {
    fail(error, error_size, "reading the output", status);
    return -1;
  }
  size_t count = 0;
  void *data = NULL;
  status = api.tensor_get_size(output, &count);
  if (status == 0) status = api.tensor_data(output, &data);
  if (status != 0) {
    api.tensor_free(output);
    fail(error, error_size, "reading the output", status);
    return -1;
  }
  if ((int64_t)count <= capacity) memcpy(out, data, count * sizeof(float));
  api.tensor_free(output);
  return (int64_t)count;
}
