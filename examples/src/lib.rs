//! Examples live beside this package's manifest.
