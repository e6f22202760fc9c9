;;; suite.el --- claw-lsp through stock eglot 1.9, in batch Emacs  -*- lexical-binding: t -*-
;;
;; Run by tests/emacs/test_emacs.py: `emacs --batch -Q -l suite.el` in a git workspace with
;; hello.py and util.py, the real claw-lsp as the server, the scripted model on loopback.
;; What a user does, with no claw code in Emacs: code actions on a region and on a `claw:`
;; comment, the answer shown, `undo`, an approval through eglot's own prompt (completing-read
;; answered by the wrapper below), two edits of one buffer in one blocking turn, and a turn
;; longer than eglot's 10 s request timeout.
;;
;; Batch Emacs never goes idle, so eglot's didChange (an idle timer) would never go out:
;; `claw-wait' runs the idle timers every 0.6 s while it waits, as the command loop would.
;; Exit status 0 when every spec passed.

(require 'cl-lib)
(require 'json)
(dolist (dir (file-expand-wildcards "/usr/share/emacs/site-lisp/elpa/*"))
  (add-to-list 'load-path dir))
(require 'eglot)
(require 'python)

(defvar claw-failures 0)
(defvar claw-messages nil "What eglot showed the user (window/showMessage and its own).")
(defvar claw-prompts nil "Every prompt the user was asked, newest first.")
(defvar claw-choices nil "What the user picks at the next prompts: regexps, in order.")

(defun claw-log (fmt &rest args)
  (let ((line (apply #'format fmt args)))
    (with-temp-buffer
      (insert line "\n")
      (append-to-file (point-min) (point-max) (getenv "CLAW_TEST_LOG")))
    (princ (concat "[spec] " line "\n") #'external-debugging-output)))

(advice-add 'eglot--message :after
            (lambda (fmt &rest args) (push (apply #'format fmt args) claw-messages)))

(defun claw--pick (prompt collection &rest _)
  "The user at a completing-read: picks the choice matching the next of `claw-choices'."
  (push prompt claw-prompts)
  (let* ((names (mapcar (lambda (c) (if (consp c) (car c) c)) collection))
         (want (or (pop claw-choices) (error "unexpected prompt: %s" prompt))))
    (or (cl-find-if (lambda (name) (string-match-p want name)) names)
        (error "no choice matching %s in %S" want names))))
(advice-add 'completing-read :override #'claw--pick)
(advice-add 'y-or-n-p :override (lambda (prompt) (push prompt claw-prompts) t))

(defun claw-idle ()
  "Run the idle timers, as the command loop does when the user stops typing."
  (dolist (timer (copy-sequence timer-idle-list))
    (timer-event-handler timer)))

(defun claw-wait (predicate what &optional timeout)
  (let ((deadline (+ (float-time) (or timeout 60)))
        (next-idle (+ (float-time) 0.6)))
    (while (not (funcall predicate))
      (when (> (float-time) deadline)
        (error "timed out waiting for %s" what))
      (accept-process-output nil 0.05)
      (when (> (float-time) next-idle)
        (claw-idle)
        (setq next-idle (+ (float-time) 0.6))))))

(defun claw-script (json)
  "Queue replies (a JSON list) on the scripted model."
  (let ((url (concat (getenv "CLAW_MODEL_ROOT") "/_script")))
    (unless (zerop (call-process (getenv "CLAW_PYTHON") nil nil nil "-c"
                                 "import sys, urllib.request as u; u.urlopen(u.Request(sys.argv[1], data=sys.argv[2].encode(), headers={'Content-Type': 'application/json'}), timeout=10).read()"
                                 url json))
      (error "could not script the model"))))

(defun claw-shown (regexp)
  (cl-find-if (lambda (m) (string-match-p regexp m)) claw-messages))

(defun claw-code-action (beg end choice)
  "What `M-x eglot-code-actions' does on BEG..END, the user picking CHOICE."
  (setq claw-choices (list choice))
  (let ((last-nonmenu-event 13))  ; a key, not a mouse click: completing-read, not a menu
    (eglot-code-actions beg end nil t)))

(defun claw-line-region (first last)
  (save-excursion
    (goto-char (point-min))
    (forward-line first)
    (let ((beg (point)))
      (forward-line (1+ (- last first)))
      (cons beg (point)))))

(defmacro claw-spec (name &rest body)
  (declare (indent 1))
  `(condition-case err
       (let ((start (float-time)))
         ,@body
         (claw-log "PASS %s (%.1f s)" ,name (- (float-time) start)))
     (error (setq claw-failures (1+ claw-failures))
            (claw-log "FAIL %s: %S" ,name err))))

;;; The set-up a user's init file would have (docs/clients.md), with its optional helpers.
(defun claw--run (command &optional args)
  (eglot-execute-command (eglot--current-server-or-lose) command
                         (vector (or args (make-hash-table)))))
(defun claw-undo-turn () (interactive) (claw--run 'claw.undoTurn))

(setq eglot-confirm-server-initiated-edits nil)
(add-to-list 'eglot-server-programs
             `(python-mode . (,(getenv "CLAW_PYTHON") "-m" "claw_lsp"
                              :initializationOptions (:tier "write"))))

(defvar claw-hello (find-file-noselect (expand-file-name "hello.py" (getenv "CLAW_WORKSPACE"))))
(defvar claw-original nil)

(with-current-buffer claw-hello
  (setq claw-original (buffer-string))
  (buffer-enable-undo)
  (apply #'eglot (eglot--guess-contact))
  (claw-wait (lambda () (let ((s (eglot-current-server))) (and s (jsonrpc-running-p s))))
             "eglot to connect")
  (claw-log "connected: %s" (eglot--project-nickname (eglot-current-server)))

  (claw-spec "a region's code action runs in the background and its answer is shown"
    (claw-script "[{\"text\": \"It prints a greeting.\"}]")
    (let ((region (claw-line-region 1 2)))
      (claw-code-action (car region) (cdr region) "Claw: Explain selection"))
    (claw-wait (lambda () (claw-shown "claw: It prints a greeting\\.")) "the answer")
    (cl-assert (equal (buffer-string) claw-original)))

  (claw-spec "a claw: comment runs, the buffer changes with the comment line, undo reverts it"
    (claw-script (concat "[{\"tool_calls\": [{\"name\": \"edit_file\", \"arguments\": "
                         "{\"path\": \"hello.py\", \"old_text\": \"hello\", "
                         "\"new_text\": \"HELLO\"}}]}, {\"text\": \"Louder now.\"}]"))
    (goto-char (point-min))
    (undo-boundary)
    (claw-code-action (point) nil "Claw: greet loudly")
    (claw-wait (lambda () (claw-shown "claw: Louder now\\.")) "the answer")
    (cl-assert (string-match-p "HELLO" (buffer-string)) nil "the edit: %s" (buffer-string))
    (cl-assert (not (string-match-p "claw: greet loudly" (buffer-string))) nil
               "the comment line went with the edit: %s" (buffer-string))
    (undo-boundary)
    (let ((last-command nil)) (undo))
    (cl-assert (equal (buffer-string) claw-original) nil "undo: %s" (buffer-string))
    (claw-idle))

  (claw-spec "an approval through eglot's prompt, then the command runs"
    (claw-script (concat "[{\"tool_calls\": [{\"name\": \"shell\", \"arguments\": "
                         "{\"command\": \"echo approved > approved.txt\"}}]}, "
                         "{\"text\": \"Ran it.\"}]"))
    (goto-char (point-max))
    (setq claw-choices (list "Claw: Ask about this file" "Allow once"))
    (let ((last-nonmenu-event 13)) (eglot-code-actions (point) nil nil t))
    (claw-wait (lambda () (claw-shown "claw: Ran it\\.")) "the answer")
    (cl-assert (cl-find-if (lambda (p) (string-match-p "claw wants to run shell" p)) claw-prompts))
    (cl-assert (file-exists-p (expand-file-name "approved.txt" (getenv "CLAW_WORKSPACE")))))

  (claw-spec "edits of two buffers in one blocking turn: all applied and in result.edits"
    ;; The first edit has two hunks: eglot bumps its version twice, the server guessed once.
    (claw-script (concat "[{\"tool_calls\": [{\"name\": \"edit_file\", \"arguments\": "
                         "{\"path\": \"hello.py\", \"old_text\": \"name\", \"new_text\": "
                         "\"who\", \"replace_all\": true}}]}, "
                         "{\"tool_calls\": [{\"name\": \"edit_file\", \"arguments\": "
                         "{\"path\": \"hello.py\", \"old_text\": \"hello\", \"new_text\": "
                         "\"hi\"}}]}, "
                         "{\"tool_calls\": [{\"name\": \"read_file\", \"arguments\": "
                         "{\"path\": \"util.py\"}}]}, "
                         "{\"tool_calls\": [{\"name\": \"edit_file\", \"arguments\": "
                         "{\"path\": \"util.py\", \"old_text\": \"1\", \"new_text\": "
                         "\"2\"}}]}, {\"text\": \"Three edits.\"}]"))
    (let* ((result (eglot-execute-command
                    (eglot-current-server) 'claw.ask
                    (vector (list :prompt "rename and greet" :uri (eglot--path-to-uri
                                                                   buffer-file-name)))))
           (edits (append (plist-get result :edits) nil)))
      (claw-log "result.edits: %S" edits)
      (cl-assert (equal (plist-get result :stopReason) "done"))
      (cl-assert (= (length edits) 2) nil "one entry per file: %S" edits)
      (cl-assert (cl-every (lambda (e) (eq (plist-get e :applied) t)) edits))
      (cl-assert (string-match-p "def greet(who):\n    return 'hi ' \\+ who" (buffer-string))
                 nil "both edits: %s" (buffer-string))
      (with-current-buffer (get-file-buffer (expand-file-name "util.py"
                                                              (getenv "CLAW_WORKSPACE")))
        (cl-assert (equal (buffer-string) "LIMIT = 2\n") nil "util.py: %s" (buffer-string))))
    (claw-idle)
    (accept-process-output nil 0.3)
    ;; The whole turn undone at once (docs/clients.md's claw-undo-turn), across both files.
    (let ((undone (claw-undo-turn)))
      (claw-log "undoTurn: %S" undone)
      (cl-assert (= (length (plist-get undone :files)) 2) nil "undo: %S" undone))
    (cl-assert (equal (buffer-string) claw-original) nil "after undoTurn: %s" (buffer-string))
    (claw-idle))

  (claw-spec "a turn longer than eglot's 10 s timeout neither blocks nor times out"
    (claw-script "[{\"text\": \"A slow answer.\", \"delay\": 11}]")
    (let ((start (float-time)))
      (claw-code-action (point-min) nil "Claw: Continue the session")
      (cl-assert (< (- (float-time) start) 5) nil "the code action returned at once")
      (cl-assert (claw-shown "claw: working on turn"))
      (claw-wait (lambda () (claw-shown "claw: A slow answer\\.")) "the slow answer" 90)
      (cl-assert (not (claw-shown "Timed out"))))))

(claw-log "messages: %S" (reverse claw-messages))
(dolist (buffer (buffer-list))  ; the JSON-RPC traffic as eglot saw it, timed, for a failure
  (when (string-match-p "events" (buffer-name buffer))
    (with-current-buffer buffer
      (write-region nil nil (concat (getenv "CLAW_TEST_LOG") ".events") t 'quiet))))
(dolist (buffer (buffer-list))  ; the server's log (eglot keeps its stderr in a buffer)
  (when (string-match-p "stderr" (buffer-name buffer))
    (with-current-buffer buffer
      (claw-log "--- %s ---\n%s" (buffer-name buffer) (buffer-string)))))
(kill-emacs (if (zerop claw-failures) 0 1))
