// The system SQLite (libsqlite3-dev), seen from Swift as the module CSQLite.
#include <sqlite3.h>
