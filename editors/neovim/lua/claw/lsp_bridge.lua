-- claw's language tools through Neovim's own language servers (claw-lsp issue 16).
--
-- claw-lsp asks `claw/lsp {method, params}` (definition, references, hover, rename,
-- workspace/symbol, textDocument/diagnostic); we answer from the buffer's OTHER clients
-- (vim.lsp.buf_request_all) and vim.diagnostic.get, as [{server, result} | {server, error}].
-- We also push their diagnostics to claw (`claw/diagnostics {uri, version, diagnostics,
-- source, sources}`), so each agent edit reports the errors it introduced or fixed.
-- Positions travel in claw's offset encoding and are converted for every other client.
local M = {}

local NAME = 'claw'
local TIMEOUT_MS = 8000
local ATTACH_WAIT_MS = 3000
local started = false

---@param client vim.lsp.Client
local function is_claw(client)
  return client.name == NAME
end

---@param bufnr integer
---@param method string?
---@return vim.lsp.Client[]
local function others(bufnr, method)
  local out = {}
  for _, client in ipairs(vim.lsp.get_clients({ bufnr = bufnr })) do
    if not is_claw(client) and (method == nil or client:supports_method(method, bufnr)) then
      out[#out + 1] = client
    end
  end
  return out
end

---@param bufnr integer
---@return vim.lsp.Client[]
local function claws(bufnr)
  return vim.lsp.get_clients({ bufnr = bufnr, name = NAME })
end

--- The text of a 0-based line: from the loaded buffer, else from the file.
---@param uri string
---@param row integer
---@return string
local function line_text(uri, row)
  local ok, fname = pcall(vim.uri_to_fname, uri)
  if not ok then
    return ''
  end
  local bufnr = vim.fn.bufnr(fname)
  if bufnr ~= -1 and vim.api.nvim_buf_is_loaded(bufnr) then
    return vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
  end
  local file = io.open(fname, 'r')
  if not file then
    return ''
  end
  local index = 0
  for line in file:lines() do
    if index == row then
      file:close()
      return line
    end
    index = index + 1
  end
  file:close()
  return ''
end

local function convert_position(position, uri, from, to)
  if from == to or type(position) ~= 'table' or type(position.character) ~= 'number' then
    return position
  end
  local line = line_text(uri, position.line)
  local byte = vim.str_byteindex(line, from, position.character, false)
  return { line = position.line, character = vim.str_utfindex(line, to, byte, false) }
end

local function convert_range(range, uri, from, to)
  if type(range) ~= 'table' or not uri then
    return range
  end
  return {
    start = convert_position(range.start, uri, from, to),
    ['end'] = convert_position(range['end'], uri, from, to),
  }
end

--- Every range in an LSP value (locations, links, hover, workspace edits, symbols,
--- diagnostics), converted between two offset encodings. `uri` is the document a bare range
--- belongs to (hover, diagnostics).
local function convert(value, from, to, uri)
  if from == to or type(value) ~= 'table' then
    return value
  end
  if vim.islist(value) then
    return vim.tbl_map(function(item)
      return convert(item, from, to, uri)
    end, value)
  end
  local out = vim.deepcopy(value)
  local own = value.uri or value.targetUri or uri
  if value.textDocument and value.edits then -- TextDocumentEdit
    own = value.textDocument.uri
    out.edits = convert(value.edits, from, to, own)
  end
  if value.changes then -- WorkspaceEdit.changes
    out.changes = {}
    for change_uri, edits in pairs(value.changes) do
      out.changes[change_uri] = convert(edits, from, to, change_uri)
    end
  end
  for _, key in ipairs({ 'documentChanges', 'location' }) do
    if value[key] then
      out[key] = convert(value[key], from, to, uri)
    end
  end
  for _, key in ipairs({ 'range', 'targetRange', 'targetSelectionRange' }) do
    if value[key] then
      out[key] = convert_range(value[key], own, from, to)
    end
  end
  if value.position then
    out.position = convert_position(value.position, own, from, to)
  end
  if value.originSelectionRange then
    out.originSelectionRange = convert_range(value.originSelectionRange, uri, from, to)
  end
  return out
end

--- Waits (inside the request coroutine) until `ready()` or the timeout.
local function wait_until(ready, timeout_ms)
  local co = coroutine.running()
  local waited = 0
  while not ready() and waited < timeout_ms do
    vim.defer_fn(function()
      coroutine.resume(co)
    end, 50)
    coroutine.yield()
    waited = waited + 50
  end
end

--- The buffer of a URI, loaded (with its filetype, so its language servers attach).
---@param uri string
---@return integer?
local function buffer_for(uri)
  local ok, fname = pcall(vim.uri_to_fname, uri)
  if not ok then
    return nil
  end
  local bufnr = vim.fn.bufnr(fname)
  if bufnr ~= -1 and vim.api.nvim_buf_is_loaded(bufnr) then
    return bufnr
  end
  bufnr = vim.fn.bufadd(fname)
  vim.fn.bufload(bufnr)
  if vim.bo[bufnr].filetype == '' then
    local filetype = vim.filetype.match({ buf = bufnr })
    if filetype then
      vim.bo[bufnr].filetype = filetype
    end
  end
  wait_until(function()
    return #others(bufnr) > 0
  end, ATTACH_WAIT_MS)
  return bufnr
end

---@param client vim.lsp.Client
---@return integer[]
local function namespaces(client)
  return {
    vim.lsp.diagnostic.get_namespace(client.id, false),
    vim.lsp.diagnostic.get_namespace(client.id, true),
  }
end

--- A client's diagnostics for a buffer, as LSP diagnostics in `encoding`.
---@param client vim.lsp.Client
---@param bufnr integer
---@param encoding string
---@return table[]
local function lsp_diagnostics(client, bufnr, encoding)
  local uri = vim.uri_from_bufnr(bufnr)
  local out = {}
  for _, namespace in ipairs(namespaces(client)) do
    for _, diagnostic in ipairs(vim.diagnostic.get(bufnr, { namespace = namespace })) do
      local original = diagnostic.user_data and diagnostic.user_data.lsp
      if type(original) == 'table' and original.range then
        out[#out + 1] = convert(original, client.offset_encoding, encoding, uri)
      else
        local function position(row, col)
          local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ''
          return { line = row, character = vim.str_utfindex(line, encoding, math.min(col, #line), false) }
        end
        out[#out + 1] = {
          range = {
            start = position(diagnostic.lnum, diagnostic.col),
            ['end'] = position(diagnostic.end_lnum or diagnostic.lnum, diagnostic.end_col or diagnostic.col),
          },
          severity = diagnostic.severity,
          message = diagnostic.message,
          source = diagnostic.source,
          code = diagnostic.code,
        }
      end
    end
  end
  return out
end

local function names(clients)
  return vim.tbl_map(function(client)
    return client.name
  end, clients)
end

--- `textDocument/diagnostic` through claw/lsp: what each other client reported.
local function diagnostics_answer(params, encoding)
  local uri = params.textDocument and params.textDocument.uri
  local bufnr = uri and buffer_for(uri)
  if not bufnr then
    return {}
  end
  local answers = {}
  for _, client in ipairs(others(bufnr)) do
    answers[#answers + 1] = {
      server = client.name,
      result = {
        kind = 'full',
        items = lsp_diagnostics(client, bufnr, encoding),
        version = vim.lsp.util.buf_versions[bufnr],
      },
    }
  end
  return answers
end

--- `claw/lsp` request handler (runs in the request coroutine, so it may wait).
function M.handle_request(_, params, ctx)
  local claw = vim.lsp.get_client_by_id(ctx.client_id)
  if type(params) ~= 'table' or type(params.method) ~= 'string' or not claw then
    return nil, vim.lsp.rpc_response_error(vim.lsp.protocol.ErrorCodes.InvalidParams)
  end
  local method, request = params.method, params.params or {}
  local encoding = claw.offset_encoding
  if method == 'textDocument/diagnostic' then
    return diagnostics_answer(request, encoding)
  end
  local uri = request.textDocument and request.textDocument.uri
  local bufnr = uri and buffer_for(uri)
  local clients = {}
  if bufnr then
    clients = others(bufnr, method)
  else -- workspace/symbol: every other client that can answer
    for _, client in ipairs(vim.lsp.get_clients()) do
      if not is_claw(client) and client:supports_method(method) then
        clients[#clients + 1] = client
      end
    end
  end
  local answers, pending = {}, #clients
  local co = coroutine.running()
  local finished = false
  local function finish()
    if not finished then
      finished = true
      vim.schedule(function()
        coroutine.resume(co)
      end)
    end
  end
  for _, client in ipairs(clients) do
    local converted = convert(request, encoding, client.offset_encoding, uri)
    local sent = client:request(method, converted, function(err, result)
      local answer = { server = client.name }
      if err then
        answer.error = err.message or tostring(err.code)
      else
        answer.result = result == nil and vim.NIL or convert(result, client.offset_encoding, encoding, uri)
      end
      answers[#answers + 1] = answer
      pending = pending - 1
      if pending == 0 then
        finish()
      end
    end, bufnr)
    if not sent then
      pending = pending - 1
    end
  end
  if pending > 0 then
    vim.defer_fn(finish, TIMEOUT_MS)
    coroutine.yield()
  end
  return answers
end

--- Pushes the diagnostics of the buffer's other clients to every claw client on it.
--- `only`: the namespaces that changed (nil: all clients); `coverage`: tell claw only which
--- servers cover the buffer (on attach/detach, before they have published anything).
---@param bufnr integer
---@param only integer[]?
---@param coverage boolean?
local function push(bufnr, only, coverage)
  if not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  local targets = claws(bufnr)
  if #targets == 0 then
    return
  end
  local uri = vim.uri_from_bufnr(bufnr)
  local clients = others(bufnr)
  local sources = names(clients)
  for _, claw in ipairs(targets) do
    if coverage then
      claw:notify('claw/diagnostics', { uri = uri, sources = sources })
    else
      for _, client in ipairs(clients) do
        local changed = only == nil
        for _, namespace in ipairs(only or {}) do
          changed = changed or vim.tbl_contains(namespaces(client), namespace)
        end
        if changed then
          claw:notify('claw/diagnostics', {
            uri = uri,
            version = vim.lsp.util.buf_versions[bufnr],
            diagnostics = lsp_diagnostics(client, bufnr, claw.offset_encoding),
            source = client.name,
            sources = sources,
          })
        end
      end
    end
  end
end

--- Called when claw attaches to a buffer: from then on, diagnostics are pushed.
---@param _ vim.lsp.Client
---@param bufnr integer
function M.attach(_, bufnr)
  if not started then
    started = true
    local group = vim.api.nvim_create_augroup('claw_lsp_bridge', { clear = true })
    vim.api.nvim_create_autocmd('DiagnosticChanged', {
      group = group,
      callback = function(args)
        local changed = {}
        for _, diagnostic in ipairs((args.data or {}).diagnostics or {}) do
          changed[diagnostic.namespace] = true
        end
        push(args.buf, next(changed) and vim.tbl_keys(changed) or nil)
      end,
    })
    vim.api.nvim_create_autocmd({ 'LspAttach', 'LspDetach' }, {
      group = group,
      callback = function(args)
        vim.schedule(function()
          push(args.buf, nil, true)
        end)
      end,
    })
  end
  vim.schedule(function()
    push(bufnr, nil, true)
  end)
end

return M
