//! Table descriptions (`kvidxkitTableDesc.h`) and schema versioning
//! (`kvidxkitSchema.h`) on the library's own SQLite.
