-- Cancel during a slow stream: :Claw cancel and <C-c> in the conversation.
local H = dofile(os.getenv('CLAW_TEST_DIR') .. '/helpers.lua')
local T = H.T
H.setup({ tier = 'write' })

local function slow_reply()
  -- 40 chunks, 0.25 s apart: 10 s if nothing stops it.
  return { { text = string.rep('slow words ', 40), chunks = 40, chunk_delay = 0.25 } }
end

---@param cancel fun()
local function cancel_midway(cancel)
  H.open('demo.py')
  H.script(slow_reply())
  local since = #H.events.claw_events
  local before = #H.events.ask_done
  vim.cmd('Claw ask write a long answer')
  H.wait_event('text', since)
  T.ok(require('claw.state').by_client[vim.lsp.get_clients({ name = 'claw' })[1].id].busy, 'busy while streaming')
  cancel()
  T.wait(function()
    return #H.events.ask_done > before
  end, 'the cancelled ask to return')
  local done = H.events.ask_done[#H.events.ask_done]
  T.eq(nil, done.err)
  T.eq('cancelled', done.result.stopReason)
  T.ok(not (done.result.text or ''):find(string.rep('slow words ', 40), 1, true), 'stream stopped early')
end

T.test(':Claw cancel stops a streaming turn', function()
  cancel_midway(function()
    vim.cmd('Claw cancel')
  end)
  T.contains(H.chat_text(), 'cancelled')
  T.eq('', require('claw').status():match('●') or '', 'no longer busy')
end)

T.test('<C-c> in the conversation buffer cancels', function()
  cancel_midway(function()
    local chat = require('claw.chat')
    local win = chat.open({ focus = true })
    T.eq(chat.buf(), vim.api.nvim_win_get_buf(win))
    vim.fn.maparg('<C-c>', 'n', false, true).callback()
    vim.cmd('wincmd p')
  end)
end)

T.on_finish(function()
  T.log('--- conversation ---\n' .. H.chat_text())
end)
T.run()
