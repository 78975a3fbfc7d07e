"""Operations: health, metrics and the command line."""
