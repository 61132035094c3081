// Minimal RAII over SQLite: a connection and prepared statements.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace confab::base {

class SqliteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class SqliteStatement;

class SqliteDatabase {
 public:
  enum class Open {
    CreatePrivate,  // create the file if needed, readable by its owner only (0600: it may hold secrets)
    ExistingOnly,   // the file must exist (a reader such as `--list` never creates one)
  };
  // Opens the file at `path` (":memory:" for tests), WAL mode, a busy timeout so a
  // second process (e.g. `--list`) can read while the owner writes. Throws SqliteError
  // (for ExistingOnly: "no database at PATH" when there is none).
  explicit SqliteDatabase(const std::string& path, Open mode = Open::CreatePrivate);
  ~SqliteDatabase();
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  void exec(std::string_view sql);
  SqliteStatement prepare(std::string_view sql);
  // Rows changed by the last INSERT/UPDATE/DELETE.
  int changes() const;
  sqlite3* native() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, std::string_view sql);
  ~SqliteStatement();
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Binding is 1-based, as in SQLite.
  SqliteStatement& bind(int index, std::string_view value);
  SqliteStatement& bind(int index, int64_t value);
  SqliteStatement& bind(int index, double value);
  // Steps once; true while a row is available.
  bool step();
  // Runs to completion (for statements without rows) and resets.
  void run();
  void reset();

  std::string text(int column) const;
  int64_t integer(int column) const;
  double real(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace confab::base
