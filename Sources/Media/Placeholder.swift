public enum MediaPlaceholder {}
