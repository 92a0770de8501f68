import Ingest
import Synopsis
import Index
public enum ConsultationPlaceholder {}
