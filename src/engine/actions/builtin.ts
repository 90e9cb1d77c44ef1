// The built-in actions that exist so far, stored in the `action` table like schema-defined ones.
import { AUTHENTICATED_EXECUTE } from "../permission/bits.ts";
import type { ActionDef } from "./types.ts";

const field = (name: string, type: string, nullable = false) => ({ Name: name, ColumnName: name, ColumnType: type, IsNullable: nullable });

export const BUILTIN_ACTIONS: ActionDef[] = [
  {
    Name: "signup", Label: "Sign up", OnType: "user_account", InstanceOptional: true,
    InFields: [field("name", "label"), field("email", "email"), field("mobile", "label", true), field("password", "password"), field("passwordConfirm", "password")],
    OutFields: [{ Type: "signup", Method: "EXECUTE" }],
  },
  {
    Name: "signin", Label: "Sign in", OnType: "user_account", InstanceOptional: true,
    InFields: [field("email", "email"), field("password", "password")],
    OutFields: [{ Type: "jwt.token", Method: "EXECUTE" }],
  },
  {
    Name: "become_an_administrator", Label: "Become administrator of this instance", OnType: "world", InstanceOptional: true,
    InFields: [],
    OutFields: [{ Type: "__become_admin", Method: "EXECUTE" }],
  },
  {
    Name: "reset-password", Label: "Reset password: mail a code", OnType: "user_account", InstanceOptional: true,
    InFields: [field("email", "email")],
    OutFields: [{ Type: "password.reset.begin", Method: "EXECUTE" }],
  },
  {
    Name: "reset-password-verify", Label: "Reset password: use the code", OnType: "user_account", InstanceOptional: true,
    InFields: [field("email", "email"), field("otp", "value"), field("password", "password", true)],
    OutFields: [{ Type: "password.reset.verify", Method: "EXECUTE" }],
  },
  {
    // Any signed-in caller passes the action gate (as the other OTP actions); the subject row's execute bit and the
    // performer's owner check then leave each user only their own account, before and after lock-down.
    Name: "register_otp", Label: "Enrol for one-time passwords", OnType: "user_account", InstanceOptional: false, Permission: AUTHENTICATED_EXECUTE,
    InFields: [field("mobile_number", "label", true)],
    OutFields: [{ Type: "otp.generate", Method: "EXECUTE", Attributes: { email: "$.email", mobile: "~mobile_number", purpose: "enrollment" } }],
  },
  {
    Name: "verify_mobile_number", Label: "Confirm the one-time-password enrolment", OnType: "user_otp_account", InstanceOptional: true,
    Permission: AUTHENTICATED_EXECUTE,
    InFields: [field("email", "email"), field("mobile_number", "label", true), field("otp", "value")],
    OutFields: [{ Type: "otp.login.verify", Method: "EXECUTE", Attributes: { email: "~email", mobile: "~mobile_number", otp: "~otp", purpose: "enrollment" } }],
  },
  {
    Name: "send_otp", Label: "Send a one-time password", OnType: "user_otp_account", InstanceOptional: true, Permission: AUTHENTICATED_EXECUTE,
    InFields: [field("email", "email"), field("mobile_number", "label", true)],
    OutFields: [{ Type: "otp.generate", Method: "EXECUTE", Attributes: { email: "~email", mobile: "~mobile_number", purpose: "send" } }],
  },
  {
    Name: "verify_otp", Label: "Sign in with a one-time password", OnType: "user_account", InstanceOptional: true, Permission: AUTHENTICATED_EXECUTE,
    InFields: [field("email", "email"), field("mobile_number", "label", true), field("otp", "value")],
    OutFields: [{ Type: "otp.login.verify", Method: "EXECUTE", Attributes: { email: "~email", mobile: "~mobile_number", otp: "~otp", purpose: "login" } }],
  },
  {
    Name: "download_system_schema", Label: "Download the schema", OnType: "world", InstanceOptional: true, InFields: [],
    OutFields: [{ Type: "__download_cms_config", Method: "EXECUTE" }],
  },
  {
    Name: "upload_system_schema", Label: "Upload a schema file (applied at once)", OnType: "world", InstanceOptional: true,
    InFields: [field("schema_file", "file.json|yaml|yml")],
    OutFields: [{ Type: "system_json_schema_update", Method: "EXECUTE" }],
  },
  {
    Name: "restart_daptin", Label: "Reload the schema files", OnType: "world", InstanceOptional: true, InFields: [],
    OutFields: [{ Type: "__restart", Method: "EXECUTE" }],
  },
  {
    Name: "remove_column", Label: "Remove a column", OnType: "world", InstanceOptional: false,
    InFields: [field("column_name", "label")],
    OutFields: [{ Type: "world.column.delete", Method: "EXECUTE" }],
  },
  {
    Name: "rename_column", Label: "Rename a column", OnType: "world", InstanceOptional: true,
    InFields: [field("table_name", "label"), field("column_name", "label"), field("new_column_name", "label")],
    OutFields: [{ Type: "world.column.rename", Method: "EXECUTE" }],
  },
  {
    Name: "remove_table", Label: "Remove a table", OnType: "world", InstanceOptional: false, InFields: [],
    OutFields: [{ Type: "world.delete", Method: "EXECUTE" }],
  },
  {
    Name: "generate_random_data", Label: "Generate random rows", OnType: "world", InstanceOptional: true,
    InFields: [field("table_name", "label"), field("count", "measurement")],
    Validations: [{ ColumnName: "count", Tags: "gt=0" }],
    OutFields: [{ Type: "generate.random.data", Method: "EXECUTE" }],
  },
  {
    Name: "import_data", Label: "Import rows from JSON or CSV files", OnType: "world", InstanceOptional: true,
    InFields: [field("dump_file", "file.json|csv|xlsx"), field("table_name", "label", true), field("truncate_before_insert", "truefalse", true)],
    OutFields: [{ Type: "__data_import", Method: "EXECUTE" }],
  },
  {
    Name: "upload_csv_to_system_schema", Label: "Create or extend a table from a CSV file and import it", OnType: "world", InstanceOptional: true,
    InFields: [field("data_csv_file", "file.csv"), field("entity_name", "label"), field("create_if_not_exists", "truefalse", true), field("add_missing_columns", "truefalse", true)],
    Validations: [{ ColumnName: "entity_name", Tags: "required" }],
    OutFields: [{ Type: "__upload_csv_file_to_entity", Method: "EXECUTE" }],
  },
  {
    Name: "upload_xls_to_system_schema", Label: "Create or extend a table from an XLSX file and import it", OnType: "world", InstanceOptional: true,
    InFields: [field("data_xls_file", "file.xls|xlsx"), field("entity_name", "label"), field("create_if_not_exists", "truefalse", true), field("add_missing_columns", "truefalse", true)],
    Validations: [{ ColumnName: "entity_name", Tags: "required" }],
    OutFields: [{ Type: "__upload_xlsx_file_to_entity", Method: "EXECUTE" }],
  },
  {
    // Administrators only (permission 0), as in Daptin.
    Name: "export_data", Label: "Export a table", OnType: "world", InstanceOptional: true, Permission: 0,
    InFields: [field("table_name", "label"), field("format", "label", true), field("columns", "json", true), field("include_headers", "truefalse", true)],
    OutFields: [{ Type: "__data_export", Method: "EXECUTE" }],
  },
  {
    Name: "export_csv_data", Label: "Export a table as CSV", OnType: "world", InstanceOptional: true, Permission: 0,
    InFields: [field("table_name", "label")],
    OutFields: [{ Type: "__csv_data_export", Method: "EXECUTE" }],
  },
  {
    Name: "publish_to_topic", Label: "Publish a message to a topic", OnType: "world", InstanceOptional: true,
    InFields: [field("topicName", "label"), field("message", "content")],
    OutFields: [{ Type: "__publish_to_topic", Method: "EXECUTE" }],
  },
  {
    Name: "get_action_schema", Label: "Download an action's definition", OnType: "action", InstanceOptional: false, InFields: [],
    OutFields: [
      {
        Type: "client.file.download",
        Method: "ACTIONRESPONSE",
        Attributes: {
          content: "!btoa(ToJson(subject.action_schema))",
          name: "!subject.action_name + '.action.json'",
          contentType: "application/json",
          message: "Downloading action schema",
        },
      },
    ],
  },
];

/** After lock-down: owner and groups only, so only administrators run these until the admin opens them. */
export const LOCKED_ACTION_PERMISSION = 2085120;
/** `signin` stays open to guests after lock-down. */
export const SIGNIN_PERMISSION = 561441;
