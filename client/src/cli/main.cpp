// seisvault: the station and operator tool of SeisVault.
//
//   seisvault keygen PREFIX                         make a station's keys (CURVE and signing pairs)
//   seisvault authorize --data-dir DIR --key K.pub  let a station key write stations (or --revoke it)
//   seisvault push --server tcp://HOST:PORT ...     send records to seisvaultd
//   seisvault query --api HOST:PORT SUBCOMMAND      read from seisvaultd's query API
//   seisvault inventory load|list|remove --data-dir DIR ...  station metadata (StationXML) for the station service
//   seisvault admin backup --data-dir DIR DEST      a consistent copy of the store (server running or not)
//   seisvault verify --data-dir DIR                 check offline that the records are what the stations sent
//
// Each subcommand is a thin layer over the client library
// (client/include/seisvault/client/); exit codes are in exit_codes.h.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "admin_command.h"
#include "authorize_command.h"
#include "exit_codes.h"
#include "inventory_command.h"
#include "export_command.h"
#include "keygen_command.h"
#include "push_command.h"
#include "query_command.h"
#include "verify_command.h"

int main(int argc, char** argv) {
  using namespace seisvault::cli;
  CLI::App app{"seisvault: SeisVault station and operator tool"};
  app.require_subcommand(1);
  KeygenArgs keygen_args;
  AuthorizeArgs authorize_args;
  PushArgs push_args;
  QueryArgs query_args;
  InventoryArgs inventory_args;
  AdminArgs admin_args;
  VerifyArgs verify_args;
  ExportArgs export_args;
  auto* keygen = add_keygen_command(app, keygen_args);
  auto* authorize = add_authorize_command(app, authorize_args);
  auto* push = add_push_command(app, push_args);
  auto* query = add_query_command(app, query_args);
  auto* inventory = add_inventory_command(app, inventory_args);
  auto* admin = add_admin_command(app, admin_args);
  auto* verify = add_verify_command(app, verify_args);
  auto* export_cmd = add_export_command(app, export_args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, or the error with a hint
    return code == 0 ? kExitOk : kExitUsage;
  }
  if (keygen->parsed()) return run_keygen(keygen_args);
  if (authorize->parsed()) return run_authorize(authorize_args);
  if (push->parsed()) return run_push(push_args);
  if (query->parsed()) return run_query(*query, query_args);
  if (inventory->parsed()) return run_inventory(*inventory, inventory_args);
  if (admin->parsed()) return run_admin(*admin, admin_args);
  if (verify->parsed()) return run_verify(verify_args);
  if (export_cmd->parsed()) return run_export(export_args);
  return kExitUsage;
}
